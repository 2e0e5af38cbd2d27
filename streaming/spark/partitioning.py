"""How streaming lines are keyed and partitioned among reducers (shipped to Spark's workers).

The key of a line is the text before its first tab, or the whole line, as Hadoop streaming
splits it. The partitioner is Hadoop's (as mhfz_streaming::runner::partition): it maps a key
to a non-negative integer; RDD.partitionBy takes it modulo the number of reducers.
"""

from functools import lru_cache


def hadoop_partition(key: str) -> int:
    """Hadoop's default HashPartitioner on a Text key: ``(hashCode & MAX_INT) % reducers``, where
    Text.hashCode is ``h = 31 * h + b`` over the UTF-8 bytes as signed Java bytes, from h = 1
    (WritableComparator.hashBytes). RDD.partitionBy applies the modulo."""
    return _hadoop_text_hash(key) & 0x7FFF_FFFF


@lru_cache(maxsize=65536)
def _hadoop_text_hash(key: str) -> int:
    hash_ = 1
    for byte in key.encode("utf-8"):
        hash_ = (31 * hash_ + (byte - 256 if byte > 127 else byte)) & 0xFFFF_FFFF
    return hash_


def key_of(line: str) -> str:
    """The streaming key: the text before the first tab, or the whole line."""
    return line.split("\t", 1)[0]
