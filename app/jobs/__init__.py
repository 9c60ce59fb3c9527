"""Work done after commit: the transactional outbox and the workers that drain it."""
