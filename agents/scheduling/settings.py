"""Scheduling worker settings (env vars, read once by the composition root)."""

from __future__ import annotations

from pydantic import Field, SecretStr

from enginedge_streams.settings import EnvSettings


class SchedulingSettings(EnvSettings):
    reminder_interval_seconds: float = Field(
        1.0, gt=0, le=60, description="How often the reminder timer looks for due reminders."
    )
    reminder_catchup_hours: float = Field(
        24.0,
        ge=0,
        le=24 * 30,
        description="Reminders that fell due while the worker was down are still sent (marked "
        "late) if at most this old.",
    )
    google_calendar_api_url: str = Field(
        "https://www.googleapis.com/calendar/v3",
        description="Google Calendar REST base URL (tests point it at a local server).",
    )
    google_calendar_access_token: SecretStr | None = Field(
        None, description="OAuth access token for Google Calendar sync. Unset: provider off."
    )
    ms_graph_api_url: str = Field(
        "https://graph.microsoft.com/v1.0", description="Microsoft Graph base URL."
    )
    ms_graph_access_token: SecretStr | None = Field(
        None, description="OAuth access token for Microsoft Graph (Outlook) sync. Unset: off."
    )
    caldav_url: str | None = Field(None, description="CalDAV server URL. Unset: CalDAV sync off.")
    caldav_username: str | None = Field(None, description="CalDAV user name.")
    caldav_password: SecretStr | None = Field(None, description="CalDAV password.")
    calendar_sync_timeout_seconds: float = Field(
        30.0, gt=0, le=600, description="Timeout of one HTTP call to a calendar provider."
    )
