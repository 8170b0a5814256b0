"""Trust's handlers: they take a unit of work (a port) and apply events through the domain."""
