"""The one error type of the reaction layer."""

from __future__ import annotations


class ReactionError(ValueError):
    """A reaction that cannot be used: malformed equation, unknown species, non-positive rate,
    unbalanced charge or elements, inconsistent reservoir data, an unusable dissociation law.

    ``reaction`` is the reaction's equation text (what the user wrote), ``message`` says what is
    wrong and how to fix it; ``str()`` gives "reaction 'A + B <-> P': message". A ValueError, so
    callers that map input errors to an exit code catch it with the others.
    """

    def __init__(self, reaction: str, message: str):
        self.reaction = str(reaction)
        self.message = str(message)
        super().__init__(f"reaction '{self.reaction}': {self.message}")

    def __reduce__(self):  # picklable with its two arguments (e.g. across MPI/processes)
        return (type(self), (self.reaction, self.message))
