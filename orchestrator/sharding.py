"""ShardedByS3Key, decided purely: which objects of a channel each host gets.

The API reference (S3DataSource.S3DataDistributionType) says each of n instances "gets
approximately 1/n of the number of S3 objects", and that with more instances than objects "some
nodes won't get any data"; it does not say which object goes where. Ours: objects in key order,
dealt round-robin to the hosts that get the channel (in host order), so 6 objects on 3 hosts
split 2/2/2, disjoint, and the same request always splits the same way.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

T = TypeVar("T")


def shard(ordered: Sequence[T], index: int, count: int) -> list[T]:
    """The share of the host at position `index` (from 0) of `count`: items index, index+count,
    ... of the key-ordered objects."""
    if not 0 <= index < count:
        raise ValueError(f"host position {index} is not below the host count {count}")
    return list(ordered[index::count])
