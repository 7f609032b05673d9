"""The actions staff can take on an order, in English and Chinese (the words Dianxiaomi's screens use).

One table: the decisions sheet's dropdowns, the action-sheet reader and every message about actions
are made from it, so a verb is never known in one place and refused in another.
"""
from __future__ import annotations

APPROVE, HOLD, RELEASE, CANCEL = "approve", "hold", "release", "cancel"
CHANGE_CHANNEL, CHANGE_WAREHOUSE, FORCE_IN_STOCK = "change channel", "change warehouse", "force in stock"
REPRINT, IGNORE_FAILURE, MARK_PRINTED = "reprint", "ignore failure", "mark printed"
MERGE, SPLIT = "merge", "split"

# verb -> (Chinese, other accepted words, what the argument column holds or "")
VERBS: dict[str, tuple[str, tuple[str, ...], str]] = {
    APPROVE: ("审核通过", ("approved", "ok", "通过", "审核"), ""),
    HOLD: ("挂起", ("pause", "暂停", "暂停发货"), ""),
    RELEASE: ("释放", ("unhold", "取消挂起", "恢复"), ""),
    CANCEL: ("取消", ("cancelled", "作废"), ""),
    CHANGE_CHANNEL: ("更换渠道", ("channel", "修改渠道", "换渠道"), "channel"),
    CHANGE_WAREHOUSE: ("更换仓库", ("warehouse", "修改仓库", "换仓库"), "warehouse"),
    FORCE_IN_STOCK: ("移入有货", ("in stock", "有货"), ""),
    REPRINT: ("重新打印", ("reprint label", "重打", "补打"), ""),
    IGNORE_FAILURE: ("忽略失败信息", ("ignore", "忽略"), ""),
    MARK_PRINTED: ("标记已打印", ("printed", "已打印"), ""),
    MERGE: ("合并订单", ("合并",), ""),      # with the buyer's other orders to the same address
    SPLIT: ("拆分订单", ("拆分",), ""),
}


def shown(verb: str) -> str:
    """How a verb appears in dropdowns and messages: both languages."""
    return f"{verb} {VERBS[verb][0]}"


def all_shown() -> str:
    return ", ".join(shown(v) for v in VERBS)


def word_table(fold) -> dict[str, str]:
    """Every accepted spelling (after ``fold``) -> verb: English, Chinese, both together, aliases."""
    table = {}
    for verb, (chinese, aliases, _) in VERBS.items():
        for word in (verb, chinese, shown(verb), verb.replace(" ", "_"), *aliases):
            table[fold(word)] = verb
    return table
