"""Polling one feed: conditional GET, the feed's poll state and its error backoff.

Plain async code over ports; the ``feed.poll`` handler calls :meth:`FeedPoller.poll`.
What is in a fetched feed goes to the ingest pipeline (``agents/news/ingest.py``).
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any

from agents.news import compute as steps
from agents.news.ingest import ArticleIngester, IngestConfig, PollReport
from agents.news.model import Feed
from agents.news.normalize import host_of
from agents.news.ports import Enricher, NewsEvents
from agents.news.repository import NewsRepository
from agents.news.state import NewsState
from enginedge_streams.compute import InlineComputePool
from enginedge_streams.errors import EnginEdgeError, PermanentError
from enginedge_streams.keyed_locks import KeyedLocks
from enginedge_streams.ports.clock import Clock
from enginedge_streams.ports.compute_pool import ComputePool
from enginedge_streams.ports.http_fetcher import HttpFetcher
from enginedge_streams.ports.rate_limiter import RateLimiter
from enginedge_streams.safe_http import HttpResponse

log = logging.getLogger("enginedge.news.ingest")


class FeedPollError(PermanentError):
    """A poll failed; the feed is retried on its own backoff schedule (not by the bus)."""

    code = "FEED_POLL_FAILED"


def backoff_seconds(interval: int, failures: int, cap: int, feed_id: str) -> float:
    """interval * 2^failures, capped; plus 0-10 % jitter fixed per feed (no herds)."""
    base = min(cap, interval * 2 ** min(failures, 20))
    jitter = int(hashlib.sha256(feed_id.encode()).hexdigest()[:4], 16) / 0xFFFF * 0.1
    return float(min(cap, base * (1 + jitter)))


class FeedPoller:
    def __init__(
        self,
        *,
        repo: NewsRepository,
        http: HttpFetcher,
        limiter: RateLimiter,
        enricher: Enricher,
        events: NewsEvents,
        state: NewsState,
        clock: Clock,
        config: IngestConfig,
        on_fetch: Callable[[str, bool], None] | None = None,
        compute: ComputePool | None = None,
    ) -> None:
        #: Parsing, extraction and fingerprints run here (the worker's compute pool).
        self.compute: ComputePool = compute or InlineComputePool()
        self.on_fetch = on_fetch  # (api, error): the worker's external-call metrics
        self.repo = repo
        self.http = http
        self.limiter = limiter
        self.clock = clock
        self.config = config
        self._locks = KeyedLocks()
        self.ingester = ArticleIngester(
            repo=repo,
            limiter=limiter,
            enricher=enricher,
            events=events,
            state=state,
            clock=clock,
            config=config,
            fetch=self._fetch,
            compute=self.compute,
        )

    # -- entry point -------------------------------------------------------------------

    async def poll(
        self, feed_id: str, *, force: bool = False, scheduled_for: datetime | None = None
    ) -> PollReport:
        async with self._locks.hold(feed_id):
            feed = self.repo.require_feed(feed_id)
            if scheduled_for is not None and not force and feed.state.next_poll_at > scheduled_for:
                return PollReport("skipped", feed_id)  # already polled for this slot
            try:
                return await self._poll(feed, force=force)
            except FeedPollError:
                raise
            except EnginEdgeError as exc:
                raise self._failed(feed, exc.code, exc.message) from None
            except Exception as exc:  # a bug must not leave the feed unscheduled
                log.exception("poll of %s failed", feed_id)
                raise self._failed(feed, "INTERNAL_ERROR", f"{type(exc).__name__}: {exc}") from None

    async def _poll(self, feed: Feed, *, force: bool) -> PollReport:
        now = self.clock.now()
        decision = await self.limiter.acquire(
            f"news:host:{host_of(feed.url)}",
            limit=self.config.host_rate_per_minute,
            window_seconds=60,
        )
        if not decision.allowed:
            st = feed.state
            retry_at = now + timedelta(seconds=max(1.0, decision.retry_after))
            if st.consecutive_failures > 0:
                # a feed in error backoff stays there: the host's budget never shortens it,
                # and its status keeps naming the error
                st.next_poll_at = max(st.next_poll_at, retry_at)
            else:
                st.last_status = "rate_limited"
                st.next_poll_at = retry_at
            self._save_state(feed)
            return PollReport("rate_limited", feed.feed_id, retry_after=decision.retry_after)
        headers: dict[str, str] = {
            "Accept": "application/rss+xml, application/atom+xml, "
            "application/rdf+xml, application/xml;q=0.9, text/xml;q=0.9, */*;q=0.5"
        }
        if not force:
            if feed.state.etag:
                headers["If-None-Match"] = feed.state.etag
            if feed.state.last_modified:
                headers["If-Modified-Since"] = feed.state.last_modified
        resp = await self._fetch("feed", feed.url, headers)
        st = feed.state
        st.polls += 1
        st.last_polled_at = now
        st.last_http_status = resp.status
        st.resolved_url = resp.url if resp.url != feed.url else None
        if resp.status == 304:
            return self._succeeded(
                feed,
                "not_modified",
                PollReport(
                    "not_modified",
                    feed.feed_id,
                    http_status=304,
                    malformed=st.malformed,
                    problem=st.feed_problem,
                ),
            )
        if resp.status >= 400 or resp.status < 200:
            retry_after = _retry_after(resp.headers.get("retry-after"))
            raise self._failed(
                feed,
                f"HTTP_{resp.status}",
                f"feed answered HTTP {resp.status}",
                retry_after=retry_after,
            )
        body_sha = hashlib.sha256(resp.body).hexdigest()
        if body_sha == st.body_sha256 and not force:
            self._validators(feed, resp.headers)
            return self._succeeded(
                feed,
                "unchanged",
                PollReport(
                    "unchanged",
                    feed.feed_id,
                    http_status=resp.status,
                    malformed=st.malformed,
                    problem=st.feed_problem,
                ),
            )
        parsed, texts = await self.compute.run(
            steps.parse_feed_step, resp.body, resp.url, resp.headers.get("content-type")
        )
        report = await self.ingester.ingest(feed, parsed, texts, now)
        report.http_status = resp.status
        self._validators(feed, resp.headers)
        st.body_sha256 = body_sha
        st.feed_title = parsed.title
        st.malformed, st.feed_problem = parsed.malformed, parsed.problem
        st.entries_seen = report.entries
        st.articles_new = len(report.new)
        st.duplicates = report.duplicates
        st.skipped = dict(report.skipped)
        st.total_articles += len(report.new)
        return self._succeeded(feed, "ok", report)

    async def _fetch(self, api: str, url: str, headers: dict[str, str] | None) -> HttpResponse:
        try:
            resp = await self.http.fetch(url, headers=headers, max_bytes=self.config.max_feed_bytes)
        except Exception:
            self._count(api, error=True)
            raise
        self._count(api, error=resp.status >= 400)
        return resp

    def _count(self, api: str, *, error: bool) -> None:
        if self.on_fetch is not None:
            self.on_fetch(api, error)

    def _save_state(self, feed: Feed) -> None:
        """Write the poll state onto the feed as it is *now*: a feed removed during the poll
        stays removed, and a ``feed.add`` update made meanwhile (interval, category) is kept."""
        current = self.repo.feed(feed.feed_id)
        if current is None:
            return
        current.state = feed.state
        if (
            current.poll_interval_seconds != feed.poll_interval_seconds
            and feed.state.last_status
            in (
                "ok",
                "not_modified",
                "unchanged",
            )
        ):
            base = feed.state.last_polled_at or self.clock.now()
            current.state.next_poll_at = base + timedelta(seconds=current.poll_interval_seconds)
        self.repo.save_feed(current)

    # -- feed state ----------------------------------------------------------------------

    def _validators(self, feed: Feed, headers: dict[str, str]) -> None:
        feed.state.etag = headers.get("etag") or None
        feed.state.last_modified = headers.get("last-modified") or None

    def _succeeded(self, feed: Feed, status: Any, report: PollReport) -> PollReport:
        now = self.clock.now()
        st = feed.state
        st.last_status = status
        st.last_success_at = now
        # a readable but malformed document (the same body when unchanged/not modified)
        # keeps its problem as the feed's last error: malformed <=> FEED_MALFORMED
        if st.malformed:
            st.last_error_code, st.last_error = "FEED_MALFORMED", st.feed_problem or "malformed"
        else:
            st.last_error_code = st.last_error = None
        st.consecutive_failures = 0
        st.next_poll_at = now + timedelta(seconds=feed.poll_interval_seconds)
        self._save_state(feed)
        return report

    def _failed(
        self, feed: Feed, code: str, message: str, *, retry_after: float | None = None
    ) -> FeedPollError:
        now = self.clock.now()
        st = feed.state
        st.last_status = "error"
        st.last_polled_at = now
        st.last_error_code = code
        st.last_error = message[:1000]
        st.malformed = code == "FEED_MALFORMED"  # consistent with last_error_code
        st.feed_problem = st.last_error if st.malformed else None
        st.consecutive_failures += 1
        delay = backoff_seconds(
            feed.poll_interval_seconds,
            st.consecutive_failures,
            self.config.backoff_max_seconds,
            feed.feed_id,
        )
        delay = max(delay, retry_after or 0.0)
        st.next_poll_at = now + timedelta(seconds=delay)
        self._save_state(feed)
        return FeedPollError(
            f"poll of {feed.url} failed: {message}",
            code=code,
            details={
                "feed_id": feed.feed_id,
                "consecutive_failures": st.consecutive_failures,
                "next_poll_at": st.next_poll_at.isoformat(),
            },
        )


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        return max(0.0, (when - datetime.now(UTC)).total_seconds())
