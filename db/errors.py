"""Domain errors: what the queue's rules refuse, with a stable code.

The API maps `status` to the HTTP status and `code`/`message` to the error
body of API.md; pages show `message` translated.
"""


class DomainError(Exception):
    """A rule of the queue refused the action."""

    status = 409
    code = "conflict"
    message = "The action is not allowed in the current state."

    def __init__(self, code=None, message=None, fields=None):
        self.code = code or self.code
        self.message = message or self.message
        self.fields = fields
        super().__init__(f"{self.code}: {self.message}")


class NotFound(DomainError):
    status = 404
    code = "not_found"
    message = "No such thing."


def found(row, what, *, by="id", field=False):
    """The row, or NotFound `<what>_not_found` ("No <what> with that <by>.").

    With `field`, the error also names the input field `<what>_id` ("Unknown <what>.").
    """
    if row is None:
        name = what.replace("_", " ")
        raise NotFound(f"{what}_not_found", f"No {name} with that {by}.",
                       {f"{what}_id": f"Unknown {name}."} if field else None)
    return row


class Conflict(DomainError):
    status = 409


class Invalid(DomainError):
    status = 400
    code = "invalid"
    message = "The input is not valid."


def check_fields(fields):
    """Refuse with 400 validation_error and a sentence per field, if any field is wrong."""
    if fields:
        raise Invalid("validation_error", "Some fields are not valid.", fields)


class DatabaseBusy(DomainError):
    status = 503
    code = "database_busy"
    message = "The database is busy; please try again in a moment."


class DatabaseUnavailable(DomainError):
    status = 503
    code = "database_unavailable"
    message = "The database cannot be written right now; nothing was changed."

    def __init__(self, detail=None):
        super().__init__()
        self.detail = detail
