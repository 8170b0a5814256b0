"""``kith simulate``: a synthetic neighbourhood's weeks through Kith's real processes.

``world`` plans the neighbourhood from a seed; ``stack`` starts a Kith of its own with a
movable clock; ``actors`` are the people acting through the API; ``life`` moves the clock
from moment to moment and has people act; ``metrics`` turns what happened into figures;
``command`` is the CLI.
"""
