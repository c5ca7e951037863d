"""Scheduling worker (WORKER_TYPE=scheduling, port 3007): calendars, recurrence, free slots, planning, reminders."""
