"""tests/kafka/delimited.py: read delimited ChatEvent files in the Kafka tests'
inline Python (not a test: ctest runs tests/kafka/*.sh). Each record is its
varint length, then the message."""


def varint(data, i):
    """The varint at data[i:]: (value, the index after it)."""
    v = shift = 0
    while True:
        b = data[i]
        i += 1
        v |= (b & 0x7F) << shift
        shift += 7
        if b < 0x80:
            return v, i


def frames(data):
    """(whole record with its length prefix, message bytes) of each record."""
    i = 0
    while i < len(data):
        size, j = varint(data, i)
        yield data[i:j + size], data[j:j + size]
        i = j + size


def varint_field(msg, number):
    """The value of varint field `number` of a message whose fields are all
    varints (as the generator writes a ChatEvent), or None when absent."""
    i = 0
    while i < len(msg):
        key, i = varint(msg, i)
        if key & 7 != 0:
            raise SystemExit("unexpected wire type")
        v, i = varint(msg, i)
        if key >> 3 == number:
            return v
    return None
