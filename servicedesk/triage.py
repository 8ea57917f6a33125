"""Proposals for a new request: category, priority and skills from the text, the asset and the customer."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from servicedesk.rules import RULES, VIP_RAISE


@dataclass(frozen=True, slots=True)
class Proposal:
    category: str | None = None
    priority: str = "P3"
    skills: list[str] = field(default_factory=list)
    matched_rules: list[str] = field(default_factory=list)
    vip: bool = False
    coverage: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "category": self.category,
            "priority": self.priority,
            "skills": self.skills,
            "matched_rules": self.matched_rules,
            "vip": self.vip,
            "coverage": self.coverage,
        }


_MODEL_CATEGORY = {"chiller": ("hvac", ["hvac"]), "lift": ("lift", ["lift"]), "elevator": ("lift", ["lift"])}


def propose(
    text: str,
    *,
    asset_category: str | None = None,
    contract_tier: str | None = None,
    vip: bool = False,
    coverage: dict[str, Any] | None = None,
    rules: list[dict[str, Any]] = RULES,
) -> Proposal:
    lowered = text.lower()
    category: str | None = None
    skills: list[str] = []
    ranks: list[int] = []
    matched: list[str] = []
    for rule in rules:
        if not any(k.lower() in lowered for k in rule["keywords"]):
            continue
        matched.append(rule["name"])
        if "priority" in rule:
            ranks.append(int(rule["priority"][1]))
        if category is None and rule.get("category"):
            category = rule["category"]
        for skill in rule.get("skills", []):
            if skill not in skills:
                skills.append(skill)
    if asset_category in _MODEL_CATEGORY:
        model_category, model_skills = _MODEL_CATEGORY[asset_category]
        category = category or model_category
        skills = skills or list(model_skills)
    # Unmatched text is routine (P3); the most urgent matching rule decides otherwise.
    rank = min(ranks) if ranks else 3
    if vip:
        rank = max(1, rank - VIP_RAISE)
        matched.append("vip: 高价值客户优先响应")
    # A gold contract's floor is applied by core on creation; shown here so the agent sees why.
    cov = dict(coverage or {})
    if contract_tier:
        cov.setdefault("contract_tier", contract_tier)
    return Proposal(category, f"P{rank}", skills, matched, vip, cov)


def coverage_of(
    today: date, warranty_ends_on: date | None, contract: tuple[str, str, date, bool, bool] | None
) -> dict[str, Any]:
    """Warranty and contract status for the agent: (number, tier, ends_on, labour, parts) of the contract."""
    out: dict[str, Any] = {
        "under_warranty": warranty_ends_on is not None and warranty_ends_on >= today,
        "warranty_ends_on": warranty_ends_on.isoformat() if warranty_ends_on else None,
        "contract": None,
    }
    if contract is not None:
        number, tier, ends_on, labour, parts = contract
        out["contract"] = {
            "number": number,
            "tier": tier,
            "ends_on": ends_on.isoformat(),
            "covers_labour": labour,
            "covers_parts": parts,
        }
    return out
