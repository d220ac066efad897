"""/safetyplan: a member's own safety plan, section by section, and its storage."""
