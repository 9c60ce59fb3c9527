"""Access grants, as the seed divides them: the region grants and keeps rights valid; the
municipality attests that its staff member's work needs them. Both must hold."""
