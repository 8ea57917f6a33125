"""Every package's ORM models, imported in one place so migrations and tests see the whole schema."""

from core.store import models as core_models
from core.store.base import Base
from inventory import models as inventory_models
from iot import models as iot_models

metadata = Base.metadata

__all__ = ["core_models", "inventory_models", "iot_models", "metadata"]
