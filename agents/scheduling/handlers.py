"""The scheduling worker's commands: plain async handlers over its ports (no Faust here)."""

from __future__ import annotations

from agents.scheduling import calendar_handlers as cal
from agents.scheduling import interop_handlers as io
from agents.scheduling import messages as m
from agents.scheduling import planning_handlers as plan
from enginedge_streams.handlers import CommandSpec

COMMANDS = [
    CommandSpec(
        "calendar.create",
        m.CreateCalendar,
        cal.handle_create_calendar,
        "Create a calendar with an IANA time zone.",
    ),
    CommandSpec(
        "event.create",
        m.CreateEvent,
        cal.handle_create_event,
        "Create a timed or all-day event, optionally recurring (RRULE/EXDATE/overrides).",
    ),
    CommandSpec(
        "event.update",
        m.UpdateEvent,
        cal.handle_update_event,
        "Change an event's fields, add exceptions or per-occurrence overrides.",
    ),
    CommandSpec("event.delete", m.EventRef, cal.handle_delete_event, "Delete an event."),
    CommandSpec("event.get", m.EventRef, cal.handle_get_event, "One stored event.", read_only=True),
    CommandSpec(
        "event.list",
        m.ListEvents,
        cal.handle_list_events,
        "Occurrences in a range, recurrences expanded.",
        read_only=True,
    ),
    CommandSpec(
        "calendar.free_slots",
        m.FreeSlots,
        cal.handle_free_slots,
        "Free slots across calendars within working hours, with buffers.",
        read_only=True,
    ),
    CommandSpec(
        "calendar.conflicts",
        m.Conflicts,
        cal.handle_conflicts,
        "Conflicts of a proposed (possibly recurring) event.",
        read_only=True,
    ),
    CommandSpec(
        "schedule.plan",
        m.PlanSchedule,
        plan.handle_plan,
        "Place tasks and habits into free time; explain what does not fit.",
    ),
    CommandSpec(
        "schedule.commit",
        m.CommitPlan,
        plan.handle_commit,
        "Write a plan's placements as events (idempotent).",
    ),
    CommandSpec("habit.create", m.CreateHabit, plan.handle_create_habit, "Create a habit."),
    CommandSpec(
        "habit.complete",
        m.CompleteHabit,
        plan.handle_complete_habit,
        "Mark a habit done for a day (idempotent); returns streaks.",
    ),
    CommandSpec(
        "habit.list",
        m.ListHabits,
        plan.handle_list_habits,
        "A user's habits with current/longest streak and due-today.",
        read_only=True,
    ),
    CommandSpec(
        "habits.schedule",
        m.ScheduleHabits,
        plan.handle_schedule_habits,
        "The assistant's SCHEDULE_HABITS: plan a user's habits into a calendar.",
    ),
    CommandSpec(
        "goal.create",
        m.CreateGoal,
        plan.handle_create_goal,
        "Create a goal with weighted milestones.",
    ),
    CommandSpec(
        "goal.milestone",
        m.MarkMilestone,
        plan.handle_mark_milestone,
        "Mark a milestone done/undone; returns progress.",
    ),
    CommandSpec(
        "goal.list",
        m.ListGoals,
        plan.handle_list_goals,
        "A user's goals and progress.",
        read_only=True,
    ),
    CommandSpec(
        "reminder.fire",
        m.FireReminder,
        plan.handle_fire_reminder,
        "Internal (sent by the reminder timer): emit one reminder.due record.",
    ),
    CommandSpec(
        "calendar.import_ics",
        m.ImportIcs,
        io.handle_import_ics,
        "Import RFC 5545 text (idempotent per UID).",
    ),
    CommandSpec(
        "calendar.export_ics",
        m.ExportIcs,
        io.handle_export_ics,
        "Export a calendar as RFC 5545 text.",
        read_only=True,
    ),
    CommandSpec(
        "calendar.sync",
        m.SyncCalendar,
        io.handle_sync,
        "Sync with Google Calendar, Microsoft Graph or CalDAV (last write wins).",
    ),
]
