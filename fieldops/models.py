"""Every package's ORM models, imported in one place so migrations and tests see the whole schema."""

from automation import models as automation_models
from core.store import models as core_models
from core.store.base import Base
from dispatch.planning import models as planning_models
from fieldwork import models as fieldwork_models
from inventory import models as inventory_models
from iot import models as iot_models
from servicedesk import models as servicedesk_models

metadata = Base.metadata

__all__ = [
    "automation_models",
    "core_models",
    "fieldwork_models",
    "inventory_models",
    "iot_models",
    "metadata",
    "planning_models",
    "servicedesk_models",
]
