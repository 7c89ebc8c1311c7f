"""How ``DoppelGANger.fit`` orders the callbacks it is given without importing their modules:
a module whose callbacks need a place in the list registers an arranger here when it is
imported (doppelganger_tf/training/fidelity_callback.py puts its FidelityTrackers first), so an
instance of such a callback always comes with its arranger, and the model depends on no
training callback."""
from __future__ import annotations

from typing import Callable, List

# the registered arrangers, in the order they were registered
ARRANGERS: List[Callable[[list], list]] = []


def register(arranger: Callable[[list], list]) -> Callable[[list], list]:
    """Registers ``arranger`` (once), for :func:`arranged` to apply.

    Args:
        arranger: A function from a list of Keras callbacks to the list in the order they
            should run (it may also tell them of each other).

    Returns:
        ``arranger`` itself, so that ``register`` serves as a decorator.
    """
    if arranger not in ARRANGERS:
        ARRANGERS.append(arranger)
    return arranger


def arranged(callbacks) -> list:
    """``callbacks`` (a list or None) as a new list, put in order by every registered arranger.

    Args:
        callbacks: The callbacks passed to ``fit``, or None.

    Returns:
        A new list.
    """
    callbacks = list(callbacks or [])
    for arrange in ARRANGERS:
        callbacks = list(arrange(callbacks))
    return callbacks
