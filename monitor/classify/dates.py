"""Date expressions in English and Chinese, resolved against the publication date.

Every expression is found in one pass, then resolved in the order of the text, because
"a day earlier" and 次日 count from the date last mentioned before them. What cannot be
pinned to a day stays unknown (``value`` None): "last week", 日前, or a bare weekday when
the publication date is unknown. Nothing defaults to the publication date except
"today" and 今天/今日.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

import ahocorasick_rs

_MONTHS = {
    "january": 1, "jan": 1, "february": 2, "feb": 2, "march": 3, "mar": 3, "april": 4,
    "apr": 4, "may": 5, "june": 6, "jun": 6, "july": 7, "jul": 7, "august": 8, "aug": 8,
    "september": 9, "sept": 9, "sep": 9, "october": 10, "oct": 10, "november": 11, "nov": 11,
    "december": 12, "dec": 12,
}
_WEEKDAYS = {"monday": 0, "tuesday": 1, "wednesday": 2, "thursday": 3, "friday": 4,
             "saturday": 5, "sunday": 6}
_ZH_WEEKDAYS = {"一": 0, "二": 1, "三": 2, "四": 3, "五": 4, "六": 5, "日": 6, "天": 6}
_EN_NUMBERS = {"two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7}
_ZH_DIGITS = {"〇": 0, "零": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6,
              "七": 7, "八": 8, "九": 9}

_MON = (r"(?:january|february|march|april|may|june|july|august|september|october|november"
        r"|december|jan|feb|mar|apr|jun|jul|aug|sept|sep|oct|nov|dec)")
_WD = r"(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday)"
_ZN = r"(?:\d{1,2}|[一二三四五六七八九十]{1,3})"
_YEAR = r"(?:19|20)\d\d"

_DATE_RE = re.compile("|".join([
    rf"(?P<iso>(?P<iso_y>{_YEAR})[-/.](?P<iso_m>[01]?\d)[-/.](?P<iso_d>[0-3]?\d))(?!\d)",
    # "(2016-09)", "2016/09": a year and a month, as teaser lines and archives write them
    rf"(?P<isom>(?P<isom_y>{_YEAR})[-/.](?P<isom_m>0?[1-9]|1[0-2]))(?![\d%]|[-/.]\d)",
    rf"(?P<zymd>(?P<zymd_y>\d{{4}}|[〇零一二三四五六七八九]{{4}})\s*年\s*(?P<zymd_m>{_ZN})\s*月"
    rf"\s*(?P<zymd_d>{_ZN})\s*[日号])",
    r"(?P<zym>(?P<zym_y>\d{4})\s*年\s*(?P<zym_m>\d{1,2})\s*月)",
    rf"(?P<zmd>(?P<zmd_m>{_ZN})\s*月\s*(?P<zmd_d>{_ZN})\s*[日号])",
    r"(?P<zdec>(?P<zdec_y>\d{2}|\d{4}|[一二三四五六七八九]十)\s*年代(?P<zdec_t>初期?|中期|末期?|后期)?)",
    r"(?P<zy>(?P<zy_y>\d{4})\s*年)",
    rf"(?P<mdy>(?P<mdy_mon>{_MON})\.?\s+(?P<mdy_d>[0-3]?\d)(?:st|nd|rd|th)?(?![\d:])"
    rf"(?:,?\s*(?P<mdy_y>{_YEAR})(?!\d))?)",
    rf"(?P<dmy>(?P<dmy_d>[0-3]?\d)(?:st|nd|rd|th)?\s+(?:of\s+)?(?P<dmy_mon>{_MON})\b\.?"
    rf"(?:,?\s*(?P<dmy_y>{_YEAR})(?!\d))?)",
    rf"(?P<my>(?P<my_mon>{_MON})\.?,?\s+(?P<my_y>{_YEAR})(?!\d))",
    rf"(?P<wd>(?:(?P<wd_mod>last|this|past|next|on|previous|coming)\s+)?(?P<wd_day>{_WD}))",
    r"(?P<dby>the day before yesterday)",
    r"(?P<today>today|tonight|this morning|this afternoon)",
    r"(?P<yday>yesterday)",
    r"(?P<prev1>(?:a|one|the)\s+day\s+(?:earlier|before)|the previous day|the preceding day"
    r"|the day prior)",
    r"(?P<prevn>(?P<prevn_n>two|three|four|five|six|seven|[2-7])\s+days\s+(?:earlier|before))",
    r"(?P<next1>(?:a|one)\s+day\s+later|the (?:next|following) day)",
    r"(?P<after>(?P<after_n>a|one|two|three|four|five|six|seven|[1-7])\s+days?\s+after"
    r"(?=\s+(?:the\s+)?[^.;!?]{0,80}?\b(?:signed|inked|sealed|struck|reached)\b))",
    r"(?P<same>(?:on\s+)?the same day|that same day)",
    r"(?P<future>next (?:week|month|year)|later this (?:week|month|year)"
    r"|in the coming (?:days|weeks|months)|tomorrow|下周|下个月|下月|明年|明天|明日|后天)",
    r"(?P<vague>(?:last|this|earlier this|late last|earlier in the)\s+(?:week|month)"
    r"|recently|the other day|in recent days|earlier this year)",
    r"(?P<zday>昨天|昨日|今天|今日(?!头条)|前天)",
    r"(?P<zwk>(?P<zwk_mod>本|这|上个|上|下个|下)?(?:周|星期|礼拜)(?P<zwk_d>[一二三四五六日天]))",
    r"(?P<zrel>当天|当日|同日|同一天|次日|第二天|翌日|前一天|前一日)",
    r"(?P<zvague>日前|近日|近期|最近|上周|本周|上月|本月|这周|上个月|近来)",
    r"(?P<zyear>去年|前年|今年)",
    r"(?P<zd>(?<![\d月年])(?P<zd_d>[0-3]?\d)\s*日(?![内以起至元]))",
    rf"(?P<dec>(?P<dec_y>{_YEAR})'?s)",
    rf"(?P<yr>(?:(?<=in )|(?<=since )|(?<=during )|(?<=from )|(?<=of )|(?<=until )|(?<=a )"
    rf"|(?<=the )|(?<=early )|(?<=late )|(?<=mid-))(?P<yr_y>{_YEAR})(?!\d|\s*年))",
]))

_ASCII_GROUPS = frozenset({"dec", "iso", "isom",
                           "mdy", "dmy", "my", "wd", "dby", "today", "yday", "prev1",
                           "prevn", "next1", "after", "same", "future", "vague", "yr"})


@dataclass(frozen=True, slots=True)
class DateMention:
    """A date expression and what it resolved to."""

    start: int
    end: int
    rule: str  # "date.absolute", "date.weekday", "date.relative.day_earlier", ...
    precision: str  # "day", "month", "year" or "vague"
    value: date | None = None  # for precision "day"
    year: int | None = None  # for "month" and "year"
    month: int | None = None
    future: bool = False  # after publication: a plan, not a signing

    def describe(self) -> str:
        if self.value is not None:
            return self.value.isoformat()
        if self.precision == "month" and self.year and self.month:
            return f"{self.year}-{self.month:02d}"
        if self.precision == "year" and self.year:
            return str(self.year)
        return "unknown"


def _zh_number(s: str) -> int | None:
    if s.isdigit():
        return int(s)
    if len(s) == 4 and all(c in _ZH_DIGITS for c in s):  # 二〇一九
        return int("".join(str(_ZH_DIGITS[c]) for c in s))
    if "十" in s:
        tens, _, ones = s.partition("十")
        t = _ZH_DIGITS.get(tens, 0) if tens else 1
        o = _ZH_DIGITS.get(ones, 0) if ones else 0
        if (tens and tens not in _ZH_DIGITS) or (ones and ones not in _ZH_DIGITS):
            return None
        return t * 10 + o
    if len(s) == 1 and s in _ZH_DIGITS:
        return _ZH_DIGITS[s]
    return None


def _day(y: int, m: int, d: int) -> date | None:
    try:
        return date(y, m, d)
    except ValueError:
        return None


def _latest_md(m: int, d: int, pub: date | None) -> date | None:
    """The latest month-day not after publication."""
    if pub is None:
        return None
    got = _day(pub.year, m, d)
    if got is not None and got <= pub:
        return got
    return _day(pub.year - 1, m, d)


def _boundary_ok(low: str, s: int, e: int) -> bool:
    if s > 0 and low[s - 1].isascii() and low[s - 1].isalnum():
        return False
    if e < len(low) and low[e].isascii() and low[e].isalnum():
        return False
    return True


# Words that every date expression contains, each with how many words before it the
# expression may start ("last Friday": 1, "earlier in the week": 3). Matching starts only
# there, never at every character of the text.
_EN_ANCHORS = {**{m: 1 for m in _MONTHS}, **{w: 1 for w in _WEEKDAYS}, "today": 0,
               "tonight": 0, "yesterday": 0, "tomorrow": 0, "recently": 0, "day": 3,
               "days": 3, "week": 3, "month": 3, "year": 3, "morning": 1, "afternoon": 1,
               "other": 1}
_ZH_ANCHORS = {w: 0 for w in (
    "昨天", "昨日", "今天", "今日", "前天", "当天", "当日", "同日", "同一天", "次日", "第二天",
    "翌日", "前一天", "前一日", "日前", "近日", "近期", "最近", "上周", "本周", "上月", "本月",
    "这周", "上个月", "近来", "去年", "前年", "今年", "下周", "下个月", "下月", "明年", "明天",
    "明日", "后天")}
_ZH_ANCHORS.update({"周": 2, "星期": 2, "礼拜": 2})
_ANCHOR_BACK = {**_EN_ANCHORS, **_ZH_ANCHORS}
_ANCHOR_LIST = list(_ANCHOR_BACK)
_ANCHORS = ahocorasick_rs.AhoCorasick(_ANCHOR_LIST,
                                      matchkind=ahocorasick_rs.MatchKind.LeftmostLongest)
_NUMBER = re.compile(r"[0-9〇零一二三四五六七八九十]+")
_WORD_STARTS = re.compile(r"\b\w")


def _starts(low: str) -> list[int]:
    """Positions where a date expression may begin."""
    found: set[int] = set()
    n = len(low)
    for i, s, e in _ANCHORS.find_matches_as_indexes(low):
        word = _ANCHOR_LIST[i]
        back = _ANCHOR_BACK[word]
        if word.isascii():
            if (s > 0 and low[s - 1].isalnum()) or (e < n and low[e].isalnum()):
                continue
            found.add(s)
            if back:
                starts = [m.start() for m in _WORD_STARTS.finditer(low, max(0, s - 30), s)]
                found.update(starts[-back:])
        else:
            found.add(s)
            found.update(range(max(0, s - back), s))
    for m in _NUMBER.finditer(low):
        found.add(m.start())
    return sorted(found)


def find_dates(norm: str, low: str, pub: date | None) -> list[DateMention]:
    """Every date expression in the text, resolved in reading order."""
    out: list[DateMention] = []
    prev: date | None = None  # the day last mentioned, for "a day earlier"
    covered = -1
    for pos in _starts(low):
        if pos < covered:
            continue
        m = _DATE_RE.match(low, pos)
        if m is None:
            continue
        covered = m.end()
        kind = _alternative(m)
        s, e = m.span()
        if kind in _ASCII_GROUPS and not _boundary_ok(low, s, e):
            continue
        spec = _resolve(kind, m, norm, pub, prev)
        if spec is None:
            continue
        got = DateMention(s, e, *spec)
        if got.precision == "day" and got.value is not None:
            prev = got.value
        out.append(got)
    return out


_ALTERNATIVES = ("iso", "isom", "zymd", "zym", "zmd", "zdec", "zy", "mdy", "dmy", "my", "wd", "dby",
                 "today",
                 "yday", "prev1", "prevn", "next1", "after", "same", "future", "vague", "zday",
                 "zwk", "zrel",
                 "zvague", "zyear", "zd", "dec", "yr")


def _alternative(m: re.Match) -> str:
    for name in _ALTERNATIVES:
        if m.group(name) is not None:
            return name
    return ""


def _is_may_verb(m: re.Match, group: str, norm: str) -> bool:
    """'may' is a month only when written 'May'."""
    g = m.group(group)
    if g is None or g != "may":
        return False
    s = m.start(group)
    return norm[s] != "M"


def _resolve(kind: str, m: re.Match, norm: str, pub: date | None, prev: date | None
             ) -> tuple | None:
    """(rule, precision, value, year, month, future) for one match, or None to skip it."""
    def day(value: date | None, rule: str) -> tuple:
        if value is None:
            return (rule, "vague")
        return (rule, "day", value, None, None, pub is not None and value > pub)

    if kind == "iso":
        return day(_day(int(m["iso_y"]), int(m["iso_m"]), int(m["iso_d"])), "date.absolute")
    if kind == "isom":
        return ("date.month", "month", None, int(m["isom_y"]), int(m["isom_m"]))
    if kind == "zymd":
        y, mo, d = (_zh_number(m["zymd_y"]), _zh_number(m["zymd_m"]), _zh_number(m["zymd_d"]))
        if y is None or mo is None or d is None:
            return None
        return day(_day(y, mo, d), "date.absolute")
    if kind == "zym":
        return ("date.month", "month", None, int(m["zym_y"]), int(m["zym_m"]))
    if kind == "zmd":
        mo, d = _zh_number(m["zmd_m"]), _zh_number(m["zmd_d"])
        if mo is None or d is None or not (1 <= mo <= 12):
            return None
        return day(_latest_md(mo, d, pub), "date.month_day")
    if kind == "zy":
        return ("date.year", "year", None, int(m["zy_y"]))
    if kind == "mdy":
        if _is_may_verb(m, "mdy_mon", norm):
            return None
        mo, d = _MONTHS[m["mdy_mon"]], int(m["mdy_d"])
        if m["mdy_y"]:
            return day(_day(int(m["mdy_y"]), mo, d), "date.absolute")
        return day(_latest_md(mo, d, pub), "date.month_day")
    if kind == "dmy":
        if _is_may_verb(m, "dmy_mon", norm):
            return None
        mo, d = _MONTHS[m["dmy_mon"]], int(m["dmy_d"])
        if m["dmy_y"]:
            return day(_day(int(m["dmy_y"]), mo, d), "date.absolute")
        return day(_latest_md(mo, d, pub), "date.month_day")
    if kind == "my":
        if _is_may_verb(m, "my_mon", norm):
            return None
        return ("date.month", "month", None, int(m["my_y"]), _MONTHS[m["my_mon"]])
    if kind == "wd":
        if pub is None:
            return ("date.weekday", "vague")
        wd = _WEEKDAYS[m["wd_day"]]
        mod = m["wd_mod"] or "on"
        back = (pub.weekday() - wd) % 7
        if mod in ("last", "past", "previous"):
            return day(pub - timedelta(days=back or 7), "date.weekday.last")
        if mod in ("next", "coming"):
            return ("date.weekday.next", "day", pub + timedelta(days=(7 - back) or 7), None,
                    None, True)
        if mod == "this" and wd > pub.weekday():
            return ("date.weekday.this", "day", pub + timedelta(days=wd - pub.weekday()),
                    None, None, True)
        return day(pub - timedelta(days=back), "date.weekday")
    if kind == "dby":
        return day(pub - timedelta(days=2) if pub else None, "date.relative.day_before_yesterday")
    if kind == "today":
        return day(pub, "date.relative.today")
    if kind == "yday":
        return day(pub - timedelta(days=1) if pub else None, "date.relative.yesterday")
    if kind == "prev1":
        return day(prev - timedelta(days=1) if prev else None, "date.relative.day_earlier")
    if kind == "prevn":
        n = _EN_NUMBERS.get(m["prevn_n"]) or int(m["prevn_n"])
        return day(prev - timedelta(days=n) if prev else None, "date.relative.days_earlier")
    if kind == "next1":
        return day(prev + timedelta(days=1) if prev else None, "date.relative.day_later")
    if kind == "after":
        # "The deal came a day after the Qingdao government signed ...": that signing was
        # one day before the date last mentioned
        n = {"a": 1, "one": 1, **_EN_NUMBERS}.get(m["after_n"]) or int(m["after_n"])
        return day(prev - timedelta(days=n) if prev else None, "date.relative.days_after")
    if kind == "same":
        return day(prev, "date.relative.same_day")
    if kind == "future":
        return ("date.future", "vague", None, None, None, True)
    if kind == "vague":
        return ("date.vague", "vague")
    if kind == "zday":
        offset = {"昨天": -1, "昨日": -1, "今天": 0, "今日": 0, "前天": -2}[m["zday"]]
        rule = {-1: "date.relative.yesterday", 0: "date.relative.today",
                -2: "date.relative.day_before_yesterday"}[offset]
        return day(pub + timedelta(days=offset) if pub else None, rule)
    if kind == "zwk":
        if pub is None:
            return ("date.weekday", "vague")
        wd = _ZH_WEEKDAYS[m["zwk_d"]]
        mod = m["zwk_mod"]
        monday = pub - timedelta(days=pub.weekday())
        if mod in ("本", "这"):
            value = monday + timedelta(days=wd)
            return ("date.weekday.this", "day", value, None, None, value > pub)
        if mod in ("上", "上个"):
            return day(monday - timedelta(days=7 - wd), "date.weekday.last")
        if mod in ("下", "下个"):
            return ("date.weekday.next", "day", monday + timedelta(days=7 + wd), None, None,
                    True)
        return day(pub - timedelta(days=(pub.weekday() - wd) % 7), "date.weekday")
    if kind == "zrel":
        word = m["zrel"]
        if word in ("当天", "当日", "同日", "同一天"):
            return day(prev, "date.relative.same_day")
        if word in ("次日", "第二天", "翌日"):
            return day(prev + timedelta(days=1) if prev else None, "date.relative.day_later")
        return day(prev - timedelta(days=1) if prev else None, "date.relative.day_earlier")
    if kind == "zvague":
        return ("date.vague", "vague")
    if kind == "zyear":
        if pub is None:
            return None
        y = {"去年": pub.year - 1, "前年": pub.year - 2, "今年": pub.year}[m["zyear"]]
        return ("date.year", "year", None, y)
    if kind == "zd":
        d = int(m["zd_d"])
        if pub is None or not 1 <= d <= 31:
            return None
        if d <= pub.day:
            return day(_day(pub.year, pub.month, d), "date.day_of_month")
        y, mo = (pub.year, pub.month - 1) if pub.month > 1 else (pub.year - 1, 12)
        return day(_day(y, mo, d), "date.day_of_month")
    if kind == "dec":
        # "in the late 2010s", "the 1990s": a decade, as its last year that fits ("early" its
        # fourth, "mid" its seventh), so it is old only when the whole span is past
        y = int(m["dec_y"])
        if y % 10:
            return None
        before = norm[max(0, m.start() - 8):m.start()].lower()
        return ("date.decade", "year", None, y + (3 if before.endswith(("early ", "early-"))
                                                   else 6 if before.endswith(("mid ", "mid-"))
                                                   else 9))
    if kind == "zdec":
        # 2010年代, 90年代末, 八十年代
        decade = _zh_number(m["zdec_y"])
        if decade is None or decade % 10:
            return None
        y = decade if decade >= 1000 else (2000 + decade if decade < 30 else 1900 + decade)
        tail = m["zdec_t"] or ""
        return ("date.decade", "year", None, y + (3 if tail.startswith("初") else
                                                   6 if tail.startswith("中") else 9))
    if kind == "yr":
        return ("date.year", "year", None, int(m["yr_y"]))
    return None
