"""Online booking (MPP Digital): the booking API; the citizen's pages come beside it."""
