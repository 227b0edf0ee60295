"""ember.entities: sharded entities, addressed by key across the cluster."""

__all__: list[str] = []
