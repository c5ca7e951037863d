"""Scheduling worker (WORKER_TYPE=scheduling, port 3007): calendars, free slots, reminders."""
