"""The operations layer: each API operation is one function over the store (and, for create,
stop and faults, the engine's hand-off). The HTTP dispatcher, the Python API and the CLI only
translate to and from these."""
