"""ORM models of spare parts and stock (filled in by the inventory work)."""
