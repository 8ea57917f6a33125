"""Property: for any sequence of stock moves against the real database, on hand = the sum of the ledger,
nothing goes negative, reservations never exceed on hand, and a refused move changes nothing.

A hypothesis state machine drives the real use cases (receive, adjust, consume, return, transfers,
reservations through assignment and cancellation, serial numbers) beside a plain model of what each
should do, and checks after every step that the database agrees with the model and with itself.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

import sqlalchemy as sa
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from core.domain.errors import Conflict, DomainError, Invalid
from core.domain.lifecycle import WorkOrderStatus
from core.services import visits, workorders
from core.services.context import ServiceContext
from inventory import catalogue, movements, transfers
from inventory.ledger import Level
from inventory.lines import PartLine
from inventory.models import StockLevel, StockMovement
from tests.inventory.helpers import Stock, check_ledger

PLACES = ("van", "near", "far")  # the reservation search order for `engineer`: van, then nearest first
_run = itertools.count(1)


@dataclass
class Order:
    id: int
    part: str
    quantity: int
    # Where its reservation is held and how much is still open (None: nothing reserved).
    held_at: str | None = None
    open: int = 0
    used: dict[str, int] = field(default_factory=dict)
    cancelled: bool = False


def make_machine(stock: Stock) -> type[RuleBasedStateMachine]:
    class Ledger(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            n = next(_run)
            self.parts = {"A": f"A-{n}", "B": f"B-{n}", "S": f"S-{n}"}
            self.ids: dict[str, int] = {}
            ctx = stock.ctx()
            with ctx.session:
                for key, sku in self.parts.items():
                    data = catalogue.PartInput(
                        sku=sku,
                        name=sku,
                        unit_cost=Decimal(1),
                        unit_price=Decimal(2),
                        serial_tracked=key == "S",
                    )
                    self.ids[key] = catalogue.create_part(ctx, data).id
            self.levels: dict[tuple[str, str], Level] = {}
            self.serials: dict[str, str | None] = {}  # serial → place (None: not in stock)
            self.orders: list[Order] = []
            self.transfers: dict[int, tuple[str, str, str, int, tuple[str, ...]]] = {}
            self.open_transfers: list[int] = []
            self.counter = itertools.count(1)

        # ------------------------------------------------------------ helpers

        def level(self, part: str, place: str) -> Level:
            return self.levels.get((part, place), Level())

        def change(
            self, part: str, place: str, on_hand: int = 0, reserved: int = 0, inbound: int = 0
        ) -> None:
            lv = self.level(part, place)
            self.levels[(part, place)] = Level(
                lv.on_hand + on_hand, lv.reserved + reserved, lv.inbound + inbound
            )

        def attempt(self, ctx: ServiceContext, expect_ok: bool, call: Callable[[], object]) -> bool:
            """Run a use case: it succeeds exactly when the model says so; a refusal changes nothing."""
            before = self.snapshot()
            refusal: DomainError | None = None
            try:
                call()
            except (Conflict, Invalid) as exc:
                refusal = exc
                # As at the end of a request: whatever the use case left open is rolled back.
                ctx.session.rollback()
            if refusal is not None:
                assert not expect_ok, f"refused, but the model allows it: {refusal.detail}"
                assert self.snapshot() == before, "a refused move changed something"
                return False
            assert expect_ok, "accepted, but the model forbids it"
            return True

        def snapshot(self) -> tuple[object, ...]:
            with stock.ctx().session as s:
                levels = sorted(
                    (lv.part_id, lv.location_id, lv.on_hand, lv.reserved, lv.inbound)
                    for lv in s.scalars(
                        sa.select(StockLevel).where(StockLevel.part_id.in_(self.ids.values()))
                    )
                )
                count = s.scalar(sa.select(sa.func.count()).select_from(StockMovement))
            return tuple(levels), count

        def ctx(self) -> ServiceContext:
            return stock.ctx()

        # ------------------------------------------------------------ rules

        @rule(place=st.sampled_from(PLACES), part=st.sampled_from("AB"), quantity=st.integers(1, 5))
        def receive(self, place: str, part: str, quantity: int) -> None:
            ctx = self.ctx()
            with ctx.session:
                line = PartLine(sku=self.parts[part], quantity=quantity)
                data = movements.ReceiveInput(location_id=stock.ids[place], lines=[line])
                self.attempt(ctx, True, lambda: movements.receive(ctx, data))
            self.change(part, place, on_hand=quantity)

        @rule(place=st.sampled_from(PLACES), count=st.integers(1, 3))
        def receive_serials(self, place: str, count: int) -> None:
            numbers = [f"{self.parts['S']}-{next(self.counter)}" for _ in range(count)]
            ctx = self.ctx()
            with ctx.session:
                line = PartLine(sku=self.parts["S"], quantity=count, serials=numbers)
                data = movements.ReceiveInput(location_id=stock.ids[place], lines=[line])
                self.attempt(ctx, True, lambda: movements.receive(ctx, data))
            self.change("S", place, on_hand=count)
            self.serials.update(dict.fromkeys(numbers, place))

        @rule(
            place=st.sampled_from(PLACES), part=st.sampled_from("AB"), delta=st.integers(-6, 6).filter(bool)
        )
        def adjust(self, place: str, part: str, delta: int) -> None:
            lv = self.level(part, place)
            ok = lv.on_hand + delta >= lv.reserved
            ctx = self.ctx()
            with ctx.session:
                data = movements.AdjustInput(
                    location_id=stock.ids[place], sku=self.parts[part], change=delta, reason="count"
                )
                if self.attempt(ctx, ok, lambda: movements.adjust(ctx, data)):
                    self.change(part, place, on_hand=delta)

        @rule(part=st.sampled_from("AB"), quantity=st.integers(1, 4))
        def plan(self, part: str, quantity: int) -> None:
            """A work order needing parts is assigned: the handlers reserve (van first, then nearest)."""
            ctx = self.ctx()
            with ctx.session:
                wo = workorders.create_work_order(
                    ctx,
                    workorders.WorkOrderInput(
                        title="job",
                        site_id=stock.world.ids["site"],
                        required_parts=[workorders.PartNeed(sku=self.parts[part], quantity=quantity)],
                    ),
                )
                visits.assign(ctx, wo.id, visits.AssignInput(engineer_id=stock.world.ids["engineer"]), None)
            order = Order(wo.id, part, quantity)
            for place in PLACES:
                if self.level(part, place).available >= quantity:
                    order.held_at, order.open = place, quantity
                    self.change(part, place, reserved=quantity)
                    break
            self.orders.append(order)

        @precondition(lambda self: any(not o.cancelled for o in self.orders))
        @rule(data=st.data())
        def cancel(self, data: st.DataObject) -> None:
            order = data.draw(st.sampled_from([o for o in self.orders if not o.cancelled]))
            ctx = self.ctx()
            with ctx.session:
                workorders.transition_work_order(ctx, order.id, WorkOrderStatus.CANCELLED, "not needed", None)
            order.cancelled = True
            if order.held_at and order.open:
                self.change(order.part, order.held_at, reserved=-order.open)
                order.open = 0

        @precondition(lambda self: any(not o.cancelled for o in self.orders))
        @rule(data=st.data(), place=st.sampled_from(PLACES), quantity=st.integers(1, 4))
        def consume(self, data: st.DataObject, place: str, quantity: int) -> None:
            order = data.draw(st.sampled_from([o for o in self.orders if not o.cancelled]))
            lv = self.level(order.part, place)
            take = min(quantity, order.open) if order.held_at == place else 0
            ok = lv.available + take >= quantity
            ctx = self.ctx()
            with ctx.session:
                body = movements.ConsumeInput(
                    work_order_id=order.id,
                    location_id=stock.ids[place],
                    lines=[PartLine(sku=self.parts[order.part], quantity=quantity)],
                )
                if self.attempt(ctx, ok, lambda: movements.consume(ctx, body)):
                    self.change(order.part, place, on_hand=-quantity, reserved=-take)
                    order.open -= take
                    order.used[place] = order.used.get(place, 0) + quantity

        @precondition(lambda self: any(o.used and not o.cancelled for o in self.orders))
        @rule(data=st.data(), place=st.sampled_from(PLACES), quantity=st.integers(1, 4))
        def give_back(self, data: st.DataObject, place: str, quantity: int) -> None:
            order = data.draw(st.sampled_from([o for o in self.orders if o.used and not o.cancelled]))
            ok = sum(order.used.values()) >= quantity
            ctx = self.ctx()
            with ctx.session:
                body = movements.ReturnInput(
                    work_order_id=order.id,
                    location_id=stock.ids[place],
                    lines=[PartLine(sku=self.parts[order.part], quantity=quantity)],
                )
                if self.attempt(ctx, ok, lambda: movements.return_parts(ctx, body)):
                    self.change(order.part, place, on_hand=quantity)
                    left = quantity
                    for where in list(order.used):
                        back = min(left, order.used[where])
                        order.used[where] -= back
                        left -= back
                    order.used = {k: v for k, v in order.used.items() if v}

        @precondition(lambda self: any(not o.cancelled for o in self.orders) and self.serials)
        @rule(data=st.data(), place=st.sampled_from(PLACES))
        def consume_serial(self, data: st.DataObject, place: str) -> None:
            order = data.draw(st.sampled_from([o for o in self.orders if not o.cancelled]))
            serial = data.draw(st.sampled_from(sorted(self.serials)))
            ok = self.serials[serial] == place and self.level("S", place).available >= 1
            ctx = self.ctx()
            with ctx.session:
                body = movements.ConsumeInput(
                    work_order_id=order.id,
                    location_id=stock.ids[place],
                    lines=[PartLine(sku=self.parts["S"], quantity=1, serials=[serial])],
                )
                if self.attempt(ctx, ok, lambda: movements.consume(ctx, body)):
                    self.change("S", place, on_hand=-1)
                    self.serials[serial] = None

        @rule(
            source=st.sampled_from(PLACES),
            dest=st.sampled_from(PLACES),
            part=st.sampled_from("AB"),
            quantity=st.integers(1, 5),
        )
        def ship(self, source: str, dest: str, part: str, quantity: int) -> None:
            target = dest
            ok = source != target and self.level(part, source).available >= quantity
            ctx = self.ctx()
            with ctx.session:
                body = transfers.TransferInput(
                    from_location_id=stock.ids[source],
                    to_location_id=stock.ids[target],
                    lines=[PartLine(sku=self.parts[part], quantity=quantity)],
                )
                shipped: list[int] = []
                if self.attempt(ctx, ok, lambda: shipped.append(transfers.ship(ctx, body).id)):
                    self.change(part, source, on_hand=-quantity)
                    self.change(part, target, inbound=quantity)
                    self.transfers[shipped[0]] = (source, target, part, quantity, ())
                    self.open_transfers.append(shipped[0])

        @precondition(lambda self: any(place for place in self.serials.values()))
        @rule(data=st.data(), dest=st.sampled_from(PLACES))
        def ship_serial(self, data: st.DataObject, dest: str) -> None:
            target = dest
            serial = data.draw(st.sampled_from(sorted(s for s, p in self.serials.items() if p)))
            source = self.serials[serial]
            assert source is not None
            ok = source != target and self.level("S", source).available >= 1
            ctx = self.ctx()
            with ctx.session:
                body = transfers.TransferInput(
                    from_location_id=stock.ids[source],
                    to_location_id=stock.ids[target],
                    lines=[PartLine(sku=self.parts["S"], quantity=1, serials=[serial])],
                )
                shipped: list[int] = []
                if self.attempt(ctx, ok, lambda: shipped.append(transfers.ship(ctx, body).id)):
                    self.change("S", source, on_hand=-1)
                    self.change("S", target, inbound=1)
                    self.transfers[shipped[0]] = (source, target, "S", 1, (serial,))
                    self.open_transfers.append(shipped[0])
                    self.serials[serial] = None

        @precondition(lambda self: self.transfers)
        @rule(data=st.data(), cancel=st.booleans())
        def close_transfer(self, data: st.DataObject, cancel: bool) -> None:
            transfer_id = data.draw(st.sampled_from(sorted(self.transfers)))
            source, target, part, quantity, numbers = self.transfers[transfer_id]
            ok = transfer_id in self.open_transfers
            ctx = self.ctx()
            with ctx.session:
                if cancel:
                    note = transfers.CloseInput(note="called off")
                    done = self.attempt(ctx, ok, lambda: transfers.cancel_transfer(ctx, transfer_id, note))
                else:
                    done = self.attempt(ctx, ok, lambda: transfers.receive_transfer(ctx, transfer_id))
            if done:
                self.open_transfers.remove(transfer_id)
                landing = source if cancel else target
                self.change(part, landing, on_hand=quantity)
                self.change(part, target, inbound=-quantity)
                for serial in numbers:
                    self.serials[serial] = landing

        # ------------------------------------------------------------ invariants

        @invariant()
        def database_agrees(self) -> None:
            with stock.ctx().session as s:
                check_ledger(s)
                actual = {
                    (lv.part_id, lv.location_id): Level(lv.on_hand, lv.reserved, lv.inbound)
                    for lv in s.scalars(
                        sa.select(StockLevel).where(StockLevel.part_id.in_(self.ids.values()))
                    )
                }
            expected = {
                (self.ids[part], stock.ids[place]): lv
                for (part, place), lv in self.levels.items()
                if lv != Level()
            }
            assert {k: v for k, v in actual.items() if v != Level()} == expected
            assert all(lv.valid for lv in self.levels.values())

    return Ledger


def test_any_sequence_of_moves_keeps_the_ledger_consistent(stock: Stock) -> None:
    machine = make_machine(stock)
    run_state_machine_as_test(
        machine,
        settings=settings(
            max_examples=25,
            stateful_step_count=30,
            deadline=None,
            suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
        ),
    )


def test_domain_errors_are_the_only_refusals() -> None:
    # The machine treats Conflict and Invalid as refusals; anything else is a bug and fails the run.
    assert issubclass(Conflict, DomainError) and issubclass(Invalid, DomainError)
