"""tests/kafka/delimited.py: read delimited ChatEvent files in the Kafka tests'
inline Python (not a test: ctest runs tests/kafka/*.sh). Each record is its
varint length, then the message."""


def frames(data):
    """(whole record with its length prefix, message bytes) of each record."""
    i = 0
    while i < len(data):
        size = shift = 0
        j = i
        while True:
            b = data[j]
            j += 1
            size |= (b & 0x7F) << shift
            shift += 7
            if b < 0x80:
                break
        yield data[i:j + size], data[j:j + size]
        i = j + size


def varint_field(msg, number):
    """The value of varint field `number` of a message whose fields are all
    varints (as the generator writes a ChatEvent), or None when absent."""
    i = 0
    while i < len(msg):
        key = shift = 0
        while True:
            b = msg[i]
            i += 1
            key |= (b & 0x7F) << shift
            shift += 7
            if b < 0x80:
                break
        v = shift = 0
        while True:
            b = msg[i]
            i += 1
            v |= (b & 0x7F) << shift
            shift += 7
            if b < 0x80:
                break
        if key >> 3 == number:
            return v
        if key & 7 != 0:
            raise SystemExit("unexpected wire type")
    return None
