"""One router per ``/api/v1`` resource."""
