"""Repair of one key from what S3 holds now, for events that were lost (the reconcile
function's write path)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

# The Lambda runtime loads these modules from the asset root, where they are
# top-level modules; static analysis sees the asset folder as a package.
if TYPE_CHECKING:
    from . import index_clients as clients
    from . import index_writes as writes
    from . import object_index_keys as keys
    from . import s3_current_object as current_object
    from .s3_event_records import ObjectChange
else:
    import index_clients as clients
    import index_writes as writes
    import object_index_keys as keys
    import s3_current_object as current_object
    from s3_event_records import ObjectChange

#: The sequencer a repair writes for a key the index has never seen: below every real one.
NO_SEQUENCER = "0" * keys.SEQUENCER_WIDTH


def _now() -> str:
    return keys.normalize_event_time(datetime.now(UTC).isoformat())


def reconcile_key(object_key: keys.ObjectKey) -> str:
    """Make the key's item say what S3 holds now, for events that were lost.

    The item keeps its stored sequencer (a key never indexed gets the lowest there is), so
    every real event still in flight for the key stays newer and is applied over the repair;
    the write is conditioned on that sequencer, so an event applied meanwhile wins. Returns
    ``in-step``, ``repaired``, or ``changed`` (an event got there first).
    """
    previous = writes.read_state(object_key)
    probe = ObjectChange(
        kind="version-removed",
        bucket=clients.bucket_name(),
        object_key=object_key,
        sequencer=previous.sequencer if previous is not None else NO_SEQUENCER,
        event_time=_now(),
        size=0,
        etag="",
        version_id=None,
    )
    current = current_object.read_current_object(probe)
    if current is None:
        if previous is None or not previous.live:
            return "in-step"
        item = writes.tombstone_item(probe)
        delta_bytes, delta_count = -previous.size, -1
    else:
        target, metadata = current
        if (
            previous is not None
            and previous.live
            and previous.etag == target.etag
            and previous.size == target.size
            and previous.version_id == target.version_id
        ):
            return "in-step"
        item = writes.object_item(target, metadata)
        was_live = previous is not None and previous.live
        delta_bytes = target.size - (previous.size if previous is not None and was_live else 0)
        delta_count = 0 if was_live else 1
    return "repaired" if writes.write(item, previous, None, delta_bytes, delta_count) else "changed"
