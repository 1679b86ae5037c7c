"""Delivery of responder notifications to people: the roster, channels, the ``notify`` process, ack links."""
