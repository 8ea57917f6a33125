"""Triage rules as data: keywords (Chinese and English) → category, priority and skills.

Kept as plain data so that adding a keyword is a one-line change reviewed like any other; the first
matching rule of each kind wins, and the most urgent priority of all matches is proposed.
"""

from __future__ import annotations

from typing import Any

RULES: list[dict[str, Any]] = [
    {
        "name": "safety",
        "keywords": [
            "火灾",
            "冒烟",
            "烟雾",
            "漏电",
            "触电",
            "fire",
            "smoke",
            "electric shock",
            "injury",
            "受伤",
        ],
        "priority": "P1",
        "category": "safety",
    },
    {
        "name": "people trapped",
        "keywords": ["困人", "被困", "trapped"],
        "priority": "P1",
        "category": "lift",
        "skills": ["lift"],
    },
    {
        "name": "lift",
        "keywords": ["电梯", "扶梯", "lift", "elevator", "escalator"],
        "category": "lift",
        "skills": ["lift"],
    },
    {
        "name": "cooling",
        "keywords": [
            "空调",
            "冷水机",
            "制冷",
            "不制冷",
            "冷机",
            "chiller",
            "hvac",
            "cooling",
            "compressor",
            "压缩机",
        ],
        "category": "hvac",
        "skills": ["hvac"],
    },
    {
        "name": "power",
        "keywords": ["停电", "跳闸", "配电", "power", "breaker", "tripped", "electrical"],
        "category": "electrical",
        "skills": ["electrical"],
    },
    {
        "name": "outage",
        "keywords": [
            "停机",
            "宕机",
            "不工作",
            "无法启动",
            "down",
            "not working",
            "stopped",
            "outage",
            "won't start",
        ],
        "priority": "P2",
    },
    {
        "name": "leak",
        "keywords": ["漏水", "泄漏", "漏油", "leak", "leaking"],
        "priority": "P2",
    },
    {
        "name": "routine",
        "keywords": ["保养", "咨询", "询问", "报价", "maintenance", "question", "quote", "inquiry"],
        "priority": "P4",
    },
]

# Seed policy: 高价值客户优先响应 (high-value customers are answered first): VIPs go up one priority level.
VIP_RAISE = 1
