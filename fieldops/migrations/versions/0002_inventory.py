"""inventory: parts catalogue, stock locations, levels, the append-only ledger, transfers, serials,
reservations, min/max rules

Revision ID: 0002_inventory
Revises: 0001_core
Create Date: 2026-11-23 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from fieldops.migrations.helpers import make_append_only

revision = "0002_inventory"
down_revision = "0001_core"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
MONEY = sa.Numeric(precision=12, scale=2)
WHEN = sa.DateTime(timezone=True)


def _fk(column: str, table: str, target: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint([column], [f"{target}.id"], name=op.f(f"fk_{table}_{column}_{target}"))


def upgrade() -> None:
    op.create_table(
        "inventory_processed_events",
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.Column("type", sa.String(length=64), nullable=False),
        sa.Column("processed_at", WHEN, nullable=False),
        sa.PrimaryKeyConstraint("event_id", name=op.f("pk_inventory_processed_events")),
    )

    op.create_table(
        "parts",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("sku", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("unit_of_measure", sa.String(length=16), nullable=False),
        sa.Column("unit_cost", MONEY, nullable=False),
        sa.Column("unit_price", MONEY, nullable=False),
        sa.Column("serial_tracked", sa.Boolean(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("updated_at", WHEN, nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint("unit_cost >= 0", name=op.f("ck_parts_unit_cost_nonneg")),
        sa.CheckConstraint("unit_price >= 0", name=op.f("ck_parts_unit_price_nonneg")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_parts")),
        sa.UniqueConstraint("sku", name=op.f("uq_parts_sku")),
    )
    op.create_index(op.f("ix_parts_name"), "parts", ["name"], unique=False)

    op.create_table(
        "fault_parts",
        sa.Column("asset_model_id", ID, nullable=False),
        sa.Column("fault_code", sa.String(length=64), nullable=False),
        sa.Column("part_id", ID, nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.CheckConstraint("quantity > 0", name=op.f("ck_fault_parts_quantity_positive")),
        _fk("asset_model_id", "fault_parts", "asset_models"),
        _fk("part_id", "fault_parts", "parts"),
        sa.PrimaryKeyConstraint("asset_model_id", "fault_code", "part_id", name=op.f("pk_fault_parts")),
    )

    op.create_table(
        "part_compatibility",
        sa.Column("part_id", ID, nullable=False),
        sa.Column("asset_model_id", ID, nullable=False),
        _fk("asset_model_id", "part_compatibility", "asset_models"),
        _fk("part_id", "part_compatibility", "parts"),
        sa.PrimaryKeyConstraint("part_id", "asset_model_id", name=op.f("pk_part_compatibility")),
    )
    op.create_index(
        "ix_part_compatibility_model", "part_compatibility", ["asset_model_id", "part_id"], unique=False
    )

    op.create_table(
        "stock_locations",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("engineer_id", ID, nullable=True),
        sa.Column("territory_id", ID, nullable=True),
        sa.Column("address", sa.String(length=500), nullable=True),
        sa.Column("lat", sa.Float(), nullable=True),
        sa.Column("lon", sa.Float(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "(kind = 'van' AND engineer_id IS NOT NULL) OR "
            "(kind = 'warehouse' AND engineer_id IS NULL AND lat IS NOT NULL AND lon IS NOT NULL)",
            name=op.f("ck_stock_locations_kind_fits"),
        ),
        _fk("engineer_id", "stock_locations", "engineers"),
        _fk("territory_id", "stock_locations", "territories"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stock_locations")),
        sa.UniqueConstraint("code", name=op.f("uq_stock_locations_code")),
        sa.UniqueConstraint("engineer_id", name=op.f("uq_stock_locations_engineer_id")),
    )

    op.create_table(
        "stock_levels",
        sa.Column("part_id", ID, nullable=False),
        sa.Column("location_id", ID, nullable=False),
        sa.Column("on_hand", sa.Integer(), nullable=False),
        sa.Column("reserved", sa.Integer(), nullable=False),
        sa.Column("inbound", sa.Integer(), nullable=False),
        sa.CheckConstraint("inbound >= 0", name=op.f("ck_stock_levels_inbound_nonneg")),
        sa.CheckConstraint("on_hand >= 0", name=op.f("ck_stock_levels_on_hand_nonneg")),
        sa.CheckConstraint("reserved <= on_hand", name=op.f("ck_stock_levels_reserved_within_on_hand")),
        sa.CheckConstraint("reserved >= 0", name=op.f("ck_stock_levels_reserved_nonneg")),
        _fk("location_id", "stock_levels", "stock_locations"),
        _fk("part_id", "stock_levels", "parts"),
        sa.PrimaryKeyConstraint("part_id", "location_id", name=op.f("pk_stock_levels")),
    )
    op.create_index("ix_stock_levels_location_part", "stock_levels", ["location_id", "part_id"], unique=False)

    op.create_table(
        "stock_rules",
        sa.Column("part_id", ID, nullable=False),
        sa.Column("location_id", ID, nullable=False),
        sa.Column("reorder_point", sa.Integer(), nullable=False),
        sa.Column("target", sa.Integer(), nullable=False),
        sa.Column("updated_at", WHEN, nullable=False),
        sa.CheckConstraint("reorder_point >= 0", name=op.f("ck_stock_rules_reorder_point_nonneg")),
        sa.CheckConstraint("target > reorder_point", name=op.f("ck_stock_rules_target_above_reorder_point")),
        _fk("location_id", "stock_rules", "stock_locations"),
        _fk("part_id", "stock_rules", "parts"),
        sa.PrimaryKeyConstraint("part_id", "location_id", name=op.f("pk_stock_rules")),
    )
    op.create_index("ix_stock_rules_location", "stock_rules", ["location_id"], unique=False)

    op.create_table(
        "stock_transfers",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("from_location_id", ID, nullable=False),
        sa.Column("to_location_id", ID, nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("work_order_id", ID, nullable=True),
        sa.Column("shipped_at", WHEN, nullable=False),
        sa.Column("shipped_by", sa.String(length=120), nullable=True),
        sa.Column("closed_at", WHEN, nullable=True),
        sa.Column("closed_by", sa.String(length=120), nullable=True),
        sa.CheckConstraint("from_location_id <> to_location_id", name=op.f("ck_stock_transfers_two_places")),
        _fk("from_location_id", "stock_transfers", "stock_locations"),
        _fk("to_location_id", "stock_transfers", "stock_locations"),
        _fk("work_order_id", "stock_transfers", "work_orders"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stock_transfers")),
    )
    op.create_index(
        op.f("ix_stock_transfers_from_location_id"), "stock_transfers", ["from_location_id"], unique=False
    )
    op.create_index("ix_stock_transfers_status", "stock_transfers", ["status", "id"], unique=False)
    op.create_index(
        op.f("ix_stock_transfers_to_location_id"), "stock_transfers", ["to_location_id"], unique=False
    )

    op.create_table(
        "stock_reservations",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("work_order_id", ID, nullable=False),
        sa.Column("visit_id", ID, nullable=True),
        sa.Column("part_id", ID, nullable=False),
        sa.Column("location_id", ID, nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("open_quantity", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("pickup_needed", sa.Boolean(), nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("closed_at", WHEN, nullable=True),
        sa.CheckConstraint(
            "open_quantity >= 0 AND open_quantity <= quantity",
            name=op.f("ck_stock_reservations_open_within_quantity"),
        ),
        sa.CheckConstraint("quantity > 0", name=op.f("ck_stock_reservations_quantity_positive")),
        _fk("location_id", "stock_reservations", "stock_locations"),
        _fk("part_id", "stock_reservations", "parts"),
        _fk("visit_id", "stock_reservations", "visits"),
        _fk("work_order_id", "stock_reservations", "work_orders"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stock_reservations")),
    )
    op.create_index(
        "ix_stock_reservations_location_part", "stock_reservations", ["location_id", "part_id"], unique=False
    )
    op.create_index(op.f("ix_stock_reservations_visit_id"), "stock_reservations", ["visit_id"], unique=False)
    op.create_index(
        "ix_stock_reservations_work_order", "stock_reservations", ["work_order_id", "status"], unique=False
    )

    op.create_table(
        "stock_serials",
        sa.Column("part_id", ID, nullable=False),
        sa.Column("serial", sa.String(length=120), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("location_id", ID, nullable=True),
        sa.Column("transfer_id", ID, nullable=True),
        sa.Column("work_order_id", ID, nullable=True),
        sa.Column("updated_at", WHEN, nullable=False),
        sa.CheckConstraint(
            "(status = 'in_stock' AND location_id IS NOT NULL) OR "
            "(status <> 'in_stock' AND location_id IS NULL)",
            name=op.f("ck_stock_serials_placed_when_in_stock"),
        ),
        _fk("location_id", "stock_serials", "stock_locations"),
        _fk("part_id", "stock_serials", "parts"),
        _fk("transfer_id", "stock_serials", "stock_transfers"),
        _fk("work_order_id", "stock_serials", "work_orders"),
        sa.PrimaryKeyConstraint("part_id", "serial", name=op.f("pk_stock_serials")),
    )
    op.create_index("ix_stock_serials_location", "stock_serials", ["location_id", "part_id"], unique=False)

    op.create_table(
        "stock_transfer_lines",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("transfer_id", ID, nullable=False),
        sa.Column("part_id", ID, nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("serials", JSON, nullable=False),
        sa.CheckConstraint("quantity > 0", name=op.f("ck_stock_transfer_lines_quantity_positive")),
        _fk("part_id", "stock_transfer_lines", "parts"),
        _fk("transfer_id", "stock_transfer_lines", "stock_transfers"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stock_transfer_lines")),
    )
    op.create_index(
        op.f("ix_stock_transfer_lines_transfer_id"), "stock_transfer_lines", ["transfer_id"], unique=False
    )

    op.create_table(
        "stock_movements",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("at", WHEN, nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("part_id", ID, nullable=False),
        sa.Column("location_id", ID, nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("on_hand_delta", sa.Integer(), nullable=False),
        sa.Column("reserved_delta", sa.Integer(), nullable=False),
        sa.Column("serial", sa.String(length=120), nullable=True),
        sa.Column("transfer_id", ID, nullable=True),
        sa.Column("work_order_id", ID, nullable=True),
        sa.Column("reservation_id", ID, nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("actor", sa.String(length=120), nullable=True),
        sa.CheckConstraint(
            "kind <> 'adjust' OR reason IS NOT NULL", name=op.f("ck_stock_movements_adjust_has_reason")
        ),
        sa.CheckConstraint(
            "kind IN ('receive', 'transfer_out', 'transfer_in', 'reserve', 'release', 'consume', "
            "'return', 'adjust')",
            name=op.f("ck_stock_movements_known_kind"),
        ),
        sa.CheckConstraint("quantity > 0", name=op.f("ck_stock_movements_quantity_positive")),
        _fk("location_id", "stock_movements", "stock_locations"),
        _fk("part_id", "stock_movements", "parts"),
        _fk("reservation_id", "stock_movements", "stock_reservations"),
        _fk("transfer_id", "stock_movements", "stock_transfers"),
        _fk("work_order_id", "stock_movements", "work_orders"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stock_movements")),
    )
    op.create_index("ix_stock_movements_at", "stock_movements", ["at"], unique=False)
    op.create_index("ix_stock_movements_location", "stock_movements", ["location_id", "id"], unique=False)
    op.create_index(
        "ix_stock_movements_part_location", "stock_movements", ["part_id", "location_id", "id"], unique=False
    )
    op.create_index(op.f("ix_stock_movements_transfer_id"), "stock_movements", ["transfer_id"], unique=False)
    op.create_index(
        op.f("ix_stock_movements_work_order_id"), "stock_movements", ["work_order_id"], unique=False
    )

    # The ledger is the record of who moved what: the application may add to it, never rewrite it.
    make_append_only("stock_movements")


def downgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    for table in (
        "stock_movements",
        "stock_transfer_lines",
        "stock_serials",
        "stock_reservations",
        "stock_transfers",
        "stock_rules",
        "stock_levels",
        "stock_locations",
        "part_compatibility",
        "fault_parts",
        "parts",
        "inventory_processed_events",
    ):
        # Dropping a table drops its indexes (and, on SQLite, its triggers) with it.
        op.drop_table(table)
    if postgres:
        op.execute("DROP FUNCTION IF EXISTS stock_movements_append_only()")
