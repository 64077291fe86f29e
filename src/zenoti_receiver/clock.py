"""UTC moments as the stack writes them: fixed-width ISO 8601 to the microsecond, ending in Z."""

# Fixed width, so that text order is time order (the indexes sort on it). isoformat, not strftime:
# glibc's %Y writes the year 999 as "999", which would sort after 2022.

from datetime import UTC, datetime


def utc_text(moment: datetime) -> str:
    """`moment` (aware) in UTC, e.g. 2022-03-22T12:34:15.379749Z."""
    return moment.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def iso_utc(epoch_seconds: float) -> str:
    """An epoch time (time.time()) as utc_text."""
    return utc_text(datetime.fromtimestamp(epoch_seconds, UTC))
