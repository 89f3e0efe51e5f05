"""Synthetic demo datasets for the exchange (a Chengdu-like city, all people invented).

Five datasets, one per publishing department, with realistic Chinese personal data in them so that
detection, masking and the sharing rules have something to work on:

=================  ==========  ==============  =====  =============================================
key                department  sharing         level  contents
=================  ==========  ==============  =====  =============================================
residents          civil       conditional     L3     names, GB 11643 IDs, mobiles, home addresses
hotline_tickets    hotline     conditional     L3     12345 tickets; free-text complaints with PII
market_entities    market      unconditional   L2     companies, GB 32100 credit codes
case_files         police      none            L4     20 case headers (metadata-only listing)
health_clinics     health      unconditional   L1     medical institutions, landlines
=================  ==========  ==============  =====  =============================================

Everything is generated from one seed: the same seed gives byte-identical frames. Faker (zh_CN) is
only used to fill small pools of names and shop names up front; rows are then drawn from the pools
with a ``random.Random``, which keeps 3,000 rows of each dataset well under a second.

Every frame holds Python ``str`` values only, in ``object`` columns (no NaN, no numbers).
"""

from __future__ import annotations

import datetime as _dt
import random
from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd
from faker import Faker

from masking import (
    USCC_ALPHABET,
    is_valid_luhn,
    luhn_check_digit,
    resident_id_check_char,
    uscc_check_char,
)

__all__ = [
    "DEPARTMENTS",
    "DISTRICTS",
    "DemoDataset",
    "bank_card",
    "credit_code",
    "generate_demo_datasets",
    "mobile_number",
    "resident_id",
]

DEFAULT_SEED = 20261128

#: The demo city's departments, parents first: (code, Chinese name, English name, level,
#: parent, GB/T 2260 region). 成都市's bureaus and its data authority (市数据局), and two
#: districts, 锦江区 and 武侯区, each with its government and its civil affairs bureau.
DEPARTMENTS: list[tuple[str, str, str, str, str | None, str]] = [
    ("police", "市公安局", "Municipal Public Security Bureau", "city", None, "510100"),
    ("civil", "市民政局", "Civil Affairs Bureau", "city", None, "510100"),
    ("health", "市卫健委", "Health Commission", "city", None, "510100"),
    ("hotline", "12345热线中心", "12345 Citizen Hotline Centre", "city", None, "510100"),
    ("market", "市市场监管局", "Market Regulation Administration", "city", None, "510100"),
    ("data", "市数据局", "Municipal Data Bureau", "city", None, "510100"),
    ("audit", "市审计局", "Municipal Audit Bureau", "city", None, "510100"),
    ("jinjiang", "锦江区政府", "Jinjiang District Government", "district", None, "510104"),
    ("jinjiang-civil", "锦江区民政局", "Jinjiang Civil Affairs Bureau", "district", "jinjiang",
     "510104"),
    ("wuhou", "武侯区政府", "Wuhou District Government", "district", None, "510107"),
    ("wuhou-civil", "武侯区民政局", "Wuhou Civil Affairs Bureau", "district", "wuhou",
     "510107"),
]


@dataclass(frozen=True, eq=False)
class DemoDataset:
    """One demo dataset with its catalog metadata.

    ``eq=False``: instances compare by identity (a DataFrame has no single truth value); compare
    ``frame`` with ``DataFrame.equals`` or :meth:`csv_bytes`.
    """

    key: str
    department: str
    title: str
    title_en: str
    description: str
    sharing: str  # "unconditional" | "conditional" | "none"
    level: str  # "L1" .. "L4"
    legal_basis: str | None
    keywords: str
    frame: pd.DataFrame
    filename: str

    @property
    def columns(self) -> list[str]:
        return [str(c) for c in self.frame.columns]

    def csv_bytes(self) -> bytes:
        """The frame as UTF-8 CSV (no index, ``\\n`` line ends): stable for a given seed."""
        return self.frame.to_csv(index=False, lineterminator="\n").encode("utf-8")


# --------------------------------------------------------------------------------------------
# Places: Chengdu districts (GB/T 2260 codes), their real streets, and how often each is drawn.
# --------------------------------------------------------------------------------------------

#: area code -> (district name, streets in it, weight when drawing a district)
DISTRICTS: dict[str, tuple[str, tuple[str, ...], int]] = {
    "510104": ("锦江区", ("春熙路", "红星路三段", "东大街", "总府路", "水井坊街", "莲桂南路",
                        "三色路", "静安路", "书院西街", "督院街"), 10),
    "510105": ("青羊区", ("人民中路二段", "西御街", "东城根街", "金河路", "草堂路", "青华路",
                        "光华北三路", "清江东路", "小南街", "文翁路"), 10),
    "510106": ("金牛区", ("一环路北一段", "沙湾路", "蜀汉路", "金府路", "营门口路", "茶店子路",
                        "西华大道", "人民北路一段", "交大路", "土桥街"), 10),
    "510107": ("武侯区", ("人民南路四段", "武侯祠大街", "玉林南路", "科华北路", "桐梓林北路",
                        "棕北路", "佳灵路", "高升桥路", "致民路", "芳草街"), 12),
    "510108": ("成华区", ("建设路", "二仙桥东路", "府青路二段", "双林路", "猛追湾街", "杉板桥路",
                        "东风路", "龙潭路", "万年场路", "八里桥路"), 10),
    "510112": ("龙泉驿区", ("驿都大道", "龙都南路", "北京路", "西河大道", "同安大道"), 5),
    "510113": ("青白江区", ("凤凰大道", "大弯中路", "华金大道", "团结路"), 3),
    "510114": ("新都区", ("桂湖东路", "新都大道", "蓉都大道", "宝光大道", "马超东路"), 5),
    "510115": ("温江区", ("柳城大道", "凤凰北大街", "德通桥路", "光华大道三段", "江安路"), 5),
    "510116": ("双流区", ("棠湖中路", "东升街", "川大路", "白衣上街", "藏卫路"), 6),
    "510117": ("郫都区", ("望丛中路", "德源大道", "创智东二路", "郫花路"), 5),
    "510118": ("新津区", ("五津西路", "兴园路", "武阳中路"), 2),
    "510121": ("金堂县", ("金山街", "十里大道", "迎宾大道"), 2),
    "510129": ("大邑县", ("晋原大道", "东街", "富民路"), 1),
    "510131": ("蒲江县", ("鹤山街", "朝阳大道", "河滨路"), 1),
    "510181": ("都江堰市", ("幸福路", "都江堰大道", "蒲阳路", "灌温路"), 3),
    "510182": ("彭州市", ("天彭大道", "金彭东路", "南大街"), 2),
    "510183": ("邛崃市", ("长松路", "文君街", "临邛路"), 2),
    "510184": ("崇州市", ("蜀州中路", "唐安西路", "晋康北路"), 2),
    "510185": ("简阳市", ("简州大道", "雄州大道", "东门外街"), 3),
}
_AREA_CODES = tuple(DISTRICTS)
_AREA_WEIGHTS = tuple(DISTRICTS[c][2] for c in _AREA_CODES)
_COUNTY_CODES = tuple(c for c in _AREA_CODES if c[4] in "238")  # 县 / 县级市

_MOBILE_PREFIXES = (
    "130", "131", "132", "133", "134", "135", "136", "137", "138", "139", "150", "151", "152",
    "153", "155", "156", "157", "158", "159", "166", "173", "175", "176", "177", "178", "180",
    "181", "182", "183", "184", "185", "186", "187", "188", "189", "191", "198", "199",
)

#: UnionPay debit-card BINs of Chinese banks -> usual card length.
_CARD_BINS: tuple[tuple[str, int], ...] = (
    ("622202", 19),  # 工商银行
    ("621226", 19),  # 工商银行
    ("622848", 19),  # 农业银行
    ("621700", 19),  # 建设银行
    ("622700", 19),  # 建设银行
    ("621661", 19),  # 中国银行
    ("622262", 19),  # 交通银行
    ("622588", 16),  # 招商银行
    ("621483", 16),  # 招商银行
    ("622908", 18),  # 兴业银行
    ("621799", 19),  # 邮储银行
    ("623668", 19),  # 建设银行
    ("625956", 16),  # 银联信用卡
    ("622155", 17),  # 广发银行（17 位旧卡）
)


# --------------------------------------------------------------------------------------------
# Identifier makers (public: tests and benchmarks build their own cases with them).
# --------------------------------------------------------------------------------------------


def resident_id(
    rng: random.Random,
    *,
    area_code: str | None = None,
    birth: _dt.date | None = None,
    male: bool | None = None,
) -> str:
    """A valid GB 11643 resident ID; unspecified parts are drawn from ``rng``."""
    if area_code is None:
        area_code = rng.choices(_AREA_CODES, _AREA_WEIGHTS)[0]
    if birth is None:
        birth = _random_date(rng, _dt.date(1940, 1, 1), _dt.date(2008, 12, 31))
    if male is None:
        male = rng.random() < 0.5
    seq = rng.randrange(100)
    sex_digit = rng.randrange(1 if male else 0, 10, 2)  # odd = male
    body = f"{area_code}{birth:%Y%m%d}{seq:02d}{sex_digit}"
    return body + resident_id_check_char(body)


def mobile_number(rng: random.Random) -> str:
    """An 11-digit mainland mobile number (1[3-9]x + 8 digits) with a real carrier prefix."""
    return rng.choice(_MOBILE_PREFIXES) + f"{rng.randrange(10**8):08d}"


def bank_card(rng: random.Random, length: int | None = None) -> str:
    """A Luhn-valid UnionPay card number (16–19 digits) with a Chinese bank's 62 BIN."""
    prefix, usual = rng.choice(_CARD_BINS)
    n = usual if length is None else length
    if not 16 <= n <= 19:
        raise ValueError("a bank card number has 16 to 19 digits")
    body = prefix + "".join(str(rng.randrange(10)) for _ in range(n - len(prefix) - 1))
    return body + luhn_check_digit(body)


_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)


def _org_code(body8: str) -> str:
    """GB 11714 organization code: 8 body characters + check character."""
    total = sum(int(c, 36) * w for c, w in zip(body8, _ORG_WEIGHTS))
    check = 11 - total % 11
    return body8 + ("X" if check == 10 else "0" if check == 11 else str(check))


def credit_code(
    rng: random.Random,
    *,
    entity_type: str = "1",
    area_code: str = "510100",
    new_style: bool = True,
) -> str:
    """A valid GB 32100 unified social credit code registered with market regulation (``9``).

    ``entity_type``: ``1`` enterprise, ``2`` individual business, ``3`` farmers' cooperative.
    ``new_style`` codes carry an ``MA…`` organization code (issued since late 2015); old-style ones
    a numeric GB 11714 code. Characters 9–17 always form a valid organization code.
    """
    alphabet = USCC_ALPHABET[:30] if new_style else "0123456789"  # no "Y" in org codes
    if new_style:
        body8 = "MA" + "".join(rng.choice(alphabet) for _ in range(6))
    else:
        body8 = "".join(rng.choice("0123456789") for _ in range(8))
        if body8[0] == "0":
            body8 = "2" + body8[1:]
    first17 = "9" + entity_type + area_code + _org_code(body8)
    return first17 + uscc_check_char(first17)


# --------------------------------------------------------------------------------------------
# Small helpers
# --------------------------------------------------------------------------------------------


def _random_date(rng: random.Random, start: _dt.date, end: _dt.date) -> _dt.date:
    return _dt.date.fromordinal(rng.randint(start.toordinal(), end.toordinal()))


def _pick_area(rng: random.Random) -> str:
    return rng.choices(_AREA_CODES, _AREA_WEIGHTS)[0]


def _street(rng: random.Random, area: str) -> str:
    return rng.choice(DISTRICTS[area][1])


def _home_address(rng: random.Random, area: str, *, province: bool = True) -> str:
    district, streets, _ = DISTRICTS[area]
    floor = rng.randint(1, 33)
    room = f"{floor}{rng.randint(1, 4):02d}"
    text = (
        f"{district}{rng.choice(streets)}{rng.randint(1, 399)}号"
        f"{rng.randint(1, 24)}栋{rng.randint(1, 4)}单元{room}室"
    )
    return f"四川省成都市{text}" if province else text


def _format_mobile(rng: random.Random, number: str) -> str:
    """The ways people write a mobile number in a complaint."""
    a, b, c = number[:3], number[3:7], number[7:]
    style = rng.random()
    if style < 0.55:
        return number
    if style < 0.72:
        return f"{a}-{b}-{c}"
    if style < 0.82:
        return f"{a} {b} {c}"
    if style < 0.94:
        return f"+86 {a} {b} {c}"
    return f"+86{number}"


def _frame(columns: list[str], rows: list[tuple[str, ...]]) -> pd.DataFrame:
    return pd.DataFrame.from_records(rows, columns=columns).astype(object)


_BRAND_CHARS = ("华鑫盛泰恒达佳瑞丰源锦蓉川蜀天府宏远新明祥和嘉兴隆康宇正信诚德安汇通"
                "金博创智联优美星辰润福鼎弘益凯腾龙亿中海峰尚东西合众")


class _People:
    """Pools of invented names, filled once from a seeded Faker (per-row Faker calls are slow)."""

    def __init__(self, seed: int) -> None:
        fake = Faker("zh_CN")
        fake.seed_instance(seed)
        self.surnames = [fake.last_name() for _ in range(600)]
        self.given_male = [fake.first_name_male() for _ in range(300)]
        self.given_female = [fake.first_name_female() for _ in range(300)]
        # Trade names (字号): Faker's few two-character ones plus pairs of shop-sign characters.
        rng = random.Random(seed)
        pairs = [a + b for a in _BRAND_CHARS for b in _BRAND_CHARS if a != b]
        faker_ones = {fake.company_prefix() for _ in range(400)}
        self.brands = sorted({p for p in faker_ones if len(p) == 2} | set(rng.sample(pairs, 1500)))

    def person(self, rng: random.Random, male: bool | None = None) -> tuple[str, str, bool]:
        """(surname, full name, male)."""
        if male is None:
            male = rng.random() < 0.5
        surname = rng.choice(self.surnames)
        given = rng.choice(self.given_male if male else self.given_female)
        return surname, surname + given, male


def _unique(make: Callable[[], str], seen: set[str], *, tries: int = 10_000) -> str:
    """Call ``make`` until it returns a value not in ``seen``; record and return it."""
    for _ in range(tries):
        value = make()
        if value not in seen:
            seen.add(value)
            return value
    raise RuntimeError("demo data: ran out of distinct values")  # pragma: no cover


# --------------------------------------------------------------------------------------------
# 1. residents (civil)
# --------------------------------------------------------------------------------------------

#: 所属区划: the GB/T 2260 code of the district the resident lives in (a region column: a
#: district's request for the registry is proposed its own rows).
_RESIDENT_COLUMNS = ["姓名", "性别", "身份证号", "出生日期", "手机号", "住址", "所属区划"]


def _residents(rng: random.Random, people: _People, rows: int) -> pd.DataFrame:
    ids: set[str] = set()
    mobiles: set[str] = set()
    out = []
    for _ in range(rows):
        _, name, male = people.person(rng)
        area = _pick_area(rng)
        birth = _random_date(rng, _dt.date(1940, 1, 1), _dt.date(2008, 12, 31))
        rid = _unique(lambda: resident_id(rng, area_code=area, birth=birth, male=male), ids)
        home_area = area if rng.random() < 0.85 else _pick_area(rng)
        out.append((
            name,
            "男" if male else "女",
            rid,
            birth.isoformat(),
            _unique(lambda: mobile_number(rng), mobiles),
            _home_address(rng, home_area),
            home_area,
        ))
    return _frame(_RESIDENT_COLUMNS, out)


# --------------------------------------------------------------------------------------------
# 2. hotline tickets (12345)
# --------------------------------------------------------------------------------------------

_TICKET_COLUMNS = ["工单编号", "受理时间", "来电人", "联系电话", "诉求内容", "处理部门"]

# Placeholders: {who} caller as the operator writes them (市民王芳 / 张先生 / 李女士),
# {mobile} a mobile in one of several spellings, {id} a valid resident ID, {addr} a home address,
# {district}/{street} a place, {amount} a sum of money, {day} a day of the month,
# {ticket} an earlier ticket number, {order} a 19-digit shop order number (not Luhn-valid),
# {bus} a bus line, {months} a count.  Harmless numbers must not look like PII to a validator.
_TEMPLATES: tuple[tuple[str, str], ...] = (
    ("{who}反映：{addr}楼下烧烤店每晚营业至凌晨2点，噪音扰民严重，已持续约{months}个月，"
     "多次协商无果，请求相关部门处理。联系电话{mobile}。", "区综合行政执法局"),
    ("来电人反映{district}{street}附近工地夜间22点后仍在施工，噪音很大，影响休息，"
     "希望核实该工地是否办理了夜间施工许可。", "市住建局"),
    ("{district}{street}与{street2}交叉口路面出现大坑，直径约1米，雨天积水，"
     "已有电瓶车摔倒，请尽快维修。", "市交通运输局"),
    ("{who}（身份证号{id}）反映其在市第三人民医院住院花费{amount}元，医保报销时被告知未办理"
     "异地就医备案，只报销了35%，请求核实报销比例。联系电话{mobile}。", "市医保局"),
    ("{who}反映其所在单位自2026年{month}月起未为其缴纳社保，涉及金额约{amount}元，"
     "请求人社部门督促补缴。身份证号：{id}。", "市人社局"),
    ("{who}反映{addr}所在小区物业公司擅自将物业费由每平方米2.5元上调至3.2元，"
     "未经业主大会表决，请求查处。电话{mobile}。", "市住建局"),
    ("反映{district}{street}地铁站C口附近长期有流动摊贩占道经营，早晚高峰影响通行，"
     "请城管部门加强管理。", "区综合行政执法局"),
    ("{who}反映{district}{street}附近小广场每晚19:30至22:00有广场舞音响声音过大，噪音扰民，"
     "希望协调降低音量。联系方式：{mobile}", "区综合行政执法局"),
    ("{who}反映在{district}某健身房办理年卡{amount}元，开业不到两个月即闭店，商家拒绝退费，"
     "请求市场监管部门处理。联系电话{mobile}。", "市市场监管局"),
    ("来电反映{addr}自11月{day}日起停水已超过48小时，事先未见任何停水通知，请求尽快恢复供水。",
     "市水务局"),
    ("{who}咨询为孩子首次办理居民身份证需要哪些材料，以及{district}派出所户籍窗口周末是否办公。",
     "市公安局"),
    ("建议增开{bus}路公交车早高峰班次，目前7:30至8:30发车间隔约20分钟，车厢拥挤。",
     "市交通运输局"),
    ("{district}{street}约200米路段路灯不亮已一周，夜间行人安全存在隐患，请尽快维修。",
     "市城管委"),
    ("{who}反映其在{district}某建筑工地务工，被拖欠工资共计{amount}元，包工头已失联，"
     "请求协调解决。本人身份证{id}，电话{mobile}。", "市人社局"),
    ("反映{district}{street}某小区门口长期有车辆违停，堵塞消防通道，请交警部门处理。",
     "市公安局交通管理局"),
    ("{who}来电询问工单{ticket}的办理进度，该工单于2026年10月{day}日提交，至今未收到回复。"
     "回拨电话{mobile}。", "12345热线中心"),
    ("反映{addr}楼下餐馆油烟直排，影响居民开窗通风，请求检查油烟净化设施。", "市生态环境局"),
    ("{who}反映网购家电订单号{order}，商品质量有问题，商家拒不履行七日无理由退货，"
     "涉及金额{amount}元，请求协调。", "市市场监管局"),
    ("{who}反映孩子所在{district}某小学课后服务每学期收费600元，询问收费是否符合规定。",
     "市教育局"),
)


def _order_number(rng: random.Random) -> str:
    """A 19-digit shop order number that is *not* a Luhn-valid card number (a hard negative)."""
    while True:
        value = "3" + "".join(str(rng.randrange(10)) for _ in range(18))
        if not is_valid_luhn(value):
            return value


def _who(rng: random.Random, surname: str, name: str, male: bool) -> str:
    style = rng.random()
    if style < 0.4:
        return f"市民{name}"
    if style < 0.75:
        return surname + ("先生" if male else "女士")
    if style < 0.9:
        return f"来电人{name}"
    return name


def _tickets(rng: random.Random, people: _People, rows: int) -> pd.DataFrame:
    # 2026-11-01 .. 2026-11-28; tickets are taken 08:00–22:00, every day of the week.
    start = _dt.datetime(2026, 11, 1, 8, 0, 0)
    times = sorted(
        start + _dt.timedelta(days=rng.randrange(28), seconds=rng.randrange(14 * 3600))
        for _ in range(rows)
    )

    per_day: dict[_dt.date, int] = {}
    out = []
    for t in times:
        seq = per_day[t.date()] = per_day.get(t.date(), 0) + 1
        ticket = f"GD{t:%Y%m%d}{seq:04d}"
        surname, name, male = people.person(rng)
        phone = mobile_number(rng)
        if rng.random() < 0.9:
            contact = phone
        else:
            contact = f"028-{rng.choice('68')}{rng.randrange(10**7):07d}"
        template, handler = rng.choice(_TEMPLATES)
        area = _pick_area(rng)
        street, street2 = rng.sample(DISTRICTS[area][1], 2)
        day = rng.randint(1, 28)
        # The text usually repeats the caller's own number, sometimes another one.
        text_mobile = phone if rng.random() < 0.7 else mobile_number(rng)
        text = template.format(
            who=_who(rng, surname, name, male),
            mobile=_format_mobile(rng, text_mobile),
            id=resident_id(rng, male=male),
            addr=_home_address(rng, area, province=rng.random() < 0.4),
            district=DISTRICTS[area][0],
            street=street,
            street2=street2,
            amount=rng.choice((350, 680, 1200, 3680, 6400, 12860, 23500, 4999, 860, 15000)),
            day=day,
            month=rng.randint(1, 9),
            months=rng.randint(2, 8),
            ticket=f"GD202610{day:02d}{rng.randint(1, 120):04d}",
            order=_order_number(rng),
            bus=rng.choice((1, 16, 27, 45, 55, 76, 99, 118, 305, 1025)),
        )
        out.append((ticket, f"{t:%Y-%m-%d %H:%M:%S}", name, contact, text, handler))
    return _frame(_TICKET_COLUMNS, out)


# --------------------------------------------------------------------------------------------
# 3. market entities
# --------------------------------------------------------------------------------------------

_MARKET_COLUMNS = ["企业名称", "统一社会信用代码", "法定代表人", "注册地址", "成立日期",
                   "注册资本(万元)"]
_INDUSTRIES = (
    "科技", "信息技术", "网络科技", "餐饮管理", "商贸", "建筑工程", "文化传媒", "物业管理",
    "医药", "电子商务", "教育咨询", "物流", "环保科技", "装饰工程", "食品", "汽车服务",
)
_SHOPS = ("小吃店", "面馆", "火锅店", "便利店", "理发店", "五金店", "茶馆", "水果店", "串串香店")
_COOPS = ("蔬菜种植", "猕猴桃种植", "生猪养殖", "茶叶", "农机", "柑橘种植")


def _market(rng: random.Random, people: _People, rows: int) -> pd.DataFrame:
    names: set[str] = set()
    codes: set[str] = set()
    out = []
    for _ in range(rows):
        area = _pick_area(rng)
        district = DISTRICTS[area][0]
        surname, boss, _ = people.person(rng)
        kind = rng.random()
        if kind < 0.78:
            entity_type = "1"
            founded = _random_date(rng, _dt.date(1995, 1, 1), _dt.date(2026, 10, 31))
            industry = rng.choice(_INDUSTRIES)
            suffix = rng.choice(("有限公司", "有限公司", "有限责任公司", "股份有限公司"))

            def make_name() -> str:
                return f"成都{rng.choice(people.brands)}{industry}{suffix}"

            capital = str(rng.choice((10, 30, 50, 100, 200, 300, 500, 1000, 2000, 5000, 10000)))
            registrar = rng.choice(("510100", area))
        elif kind < 0.95:
            entity_type = "2"
            founded = _random_date(rng, _dt.date(2010, 1, 1), _dt.date(2026, 10, 31))
            shop = rng.choice(_SHOPS)

            def make_name() -> str:
                return f"成都市{district}{surname}记{rng.choice(people.brands)}{shop}"

            capital = str(rng.choice((1, 3, 5, 10, 20)))
            registrar = area
        else:
            entity_type = "3"
            founded = _random_date(rng, _dt.date(2008, 7, 1), _dt.date(2026, 10, 31))
            crop = rng.choice(_COOPS)

            def make_name() -> str:
                return f"{district}{rng.choice(people.brands)}{crop}专业合作社"

            capital = str(rng.choice((50, 100, 200, 500)))
            registrar = area
        name = _unique(make_name, names)
        new_style = founded >= _dt.date(2015, 10, 1)
        code = _unique(
            lambda: credit_code(
                rng, entity_type=entity_type, area_code=registrar, new_style=new_style
            ),
            codes,
        )
        floor = rng.randint(1, 30)
        address = (
            f"四川省成都市{district}{_street(rng, area)}{rng.randint(1, 999)}号"
            + (f"{floor}层{floor}{rng.randint(1, 20):02d}号" if entity_type == "1" else "")
        )
        out.append((name, code, boss, address, founded.isoformat(), capital))
    return _frame(_MARKET_COLUMNS, out)


# --------------------------------------------------------------------------------------------
# 4. case files (police, not shareable)
# --------------------------------------------------------------------------------------------

_CASE_COLUMNS = ["案件编号", "立案日期", "案件类别", "办案单位"]
#: (12-digit unit code, investigating unit, the kinds of case it files)
_CASE_UNITS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("510100050000", "成都市公安局刑事侦查支队", ("故意杀人案", "抢劫案", "绑架案")),
    ("510100060000", "成都市公安局经济犯罪侦查支队",
     ("非法吸收公众存款案", "集资诈骗案", "组织、领导传销活动案")),
    ("510100070000", "成都市公安局禁毒支队", ("贩卖毒品案", "非法持有毒品案")),
    ("510100080000", "成都市公安局网络安全保卫支队",
     ("侵犯公民个人信息案", "电信网络诈骗案", "非法侵入计算机信息系统案")),
    ("510104050000", "成都市公安局锦江区分局刑事侦查大队", ("盗窃案", "故意伤害案", "寻衅滋事案")),
    ("510105050000", "成都市公安局青羊区分局刑事侦查大队", ("盗窃案", "诈骗案", "故意伤害案")),
    ("510107050000", "成都市公安局武侯区分局刑事侦查大队", ("盗窃案", "抢夺案", "寻衅滋事案")),
    ("510108050000", "成都市公安局成华区分局刑事侦查大队", ("盗窃案", "诈骗案", "故意伤害案")),
)
CASE_FILE_ROWS = 20

CASE_FILES_LEGAL_BASIS = (
    "《中华人民共和国刑事诉讼法》第一百五十二条 及 《政务信息资源共享管理暂行办法》第九条："
    "涉及侦查秘密，不予共享"
)


def _case_files(rng: random.Random, rows: int) -> pd.DataFrame:
    opened = sorted(
        _random_date(rng, _dt.date(2025, 1, 1), _dt.date(2026, 11, 27)) for _ in range(rows)
    )
    seq: dict[tuple[str, str], int] = {}
    out = []
    for day in opened:
        unit_code, unit, kinds = rng.choice(_CASE_UNITS)
        key = (unit_code, f"{day:%Y%m}")
        seq[key] = seq.get(key, 0) + 1
        number = f"A{unit_code}{day:%Y%m}{seq[key]:04d}"  # A + unit + month + sequence
        out.append((number, day.isoformat(), rng.choice(kinds), unit))
    return _frame(_CASE_COLUMNS, out)


# --------------------------------------------------------------------------------------------
# 5. health clinics
# --------------------------------------------------------------------------------------------

_CLINIC_COLUMNS = ["机构名称", "机构类别", "所在区", "地址", "联系电话", "床位数"]
_SPECIALTIES = ("口腔", "眼科", "骨科", "妇产", "儿童", "皮肤病", "耳鼻喉", "康复", "精神卫生")


def _clinics(rng: random.Random, people: _People, rows: int) -> pd.DataFrame:
    names: set[str] = set()
    phones: set[str] = set()
    out = []
    for _ in range(rows):
        area = _pick_area(rng)
        district = DISTRICTS[area][0]
        street = _street(rng, area)
        roll = rng.random()
        specialty = ""
        if roll < 0.05:
            kind, beds, pattern = "综合医院", rng.randint(100, 2000), "成都{brand}医院"
        elif roll < 0.08:
            kind, beds, pattern = "中医医院", rng.randint(60, 800), "成都{brand}中医医院"
        elif roll < 0.15:
            specialty = rng.choice(_SPECIALTIES)
            kind, beds, pattern = "专科医院", rng.randint(20, 300), "成都{brand}{specialty}医院"
        elif roll < 0.30:
            kind, beds = "社区卫生服务中心", rng.randint(10, 80)
            pattern = "成都市{district}{brand}社区卫生服务中心"
        elif roll < 0.42:
            kind, beds = "社区卫生服务站", 0
            pattern = "成都市{district}{brand}社区卫生服务站"
        elif roll < 0.50 and area in _COUNTY_CODES:
            kind, beds, pattern = "乡镇卫生院", rng.randint(20, 60), "{district}{brand}镇卫生院"
        elif roll < 0.62:
            kind, beds, pattern = "门诊部", rng.randint(0, 10), "成都{brand}门诊部"
        else:
            specialty = rng.choice(("口腔", "中医", "内科", "外科", "眼科", "皮肤科", "医疗美容"))
            kind, beds = "诊所", 0
            pattern = rng.choice(("{district}{surname}氏{specialty}诊所",
                                  "成都{brand}{specialty}诊所"))

        tries = 0

        def make_name() -> str:
            nonlocal tries
            tries += 1
            name = pattern.format(
                brand=rng.choice(people.brands),
                surname=rng.choice(people.surnames),
                district=district,
                specialty=specialty,
            )
            return name if tries <= 20 else f"{name}（{street}{tries - 20}号点）"

        name = _unique(make_name, names)
        phone = _unique(lambda: f"028-{rng.choice('68')}{rng.randrange(10**7):07d}", phones)
        address = f"四川省成都市{district}{street}{rng.randint(1, 999)}号"
        out.append((name, kind, district, address, phone, str(beds)))
    return _frame(_CLINIC_COLUMNS, out)


# --------------------------------------------------------------------------------------------
# The catalog
# --------------------------------------------------------------------------------------------


def generate_demo_datasets(*, seed: int = DEFAULT_SEED, rows: int = 3000) -> list[DemoDataset]:
    """The five demo datasets, deterministic in ``seed``.

    ``rows`` rows each, except ``case_files`` (``min(rows, 20)`` rows: a metadata-only listing).
    Each dataset draws from its own ``random.Random`` (derived from ``seed`` and its key), so
    changing one generator does not change the others.
    """
    if rows < 1:
        raise ValueError("rows must be at least 1")
    people = _People(seed)

    def rng_for(key: str) -> random.Random:
        return random.Random(f"govex-demo/{seed}/{key}")

    return [
        DemoDataset(
            key="residents",
            department="civil",
            title="居民户籍登记",
            title_en="Resident registry",
            description=(
                "全市户籍居民的基本登记信息，含姓名、身份证号、手机号和住址等个人信息。"
                "(Resident registry: names, resident ID numbers, mobiles and home addresses.)"
            ),
            sharing="conditional",
            level="L3",
            legal_basis=None,
            keywords="户籍,居民,人口,身份证,住址,resident,registry,population",
            frame=_residents(rng_for("residents"), people, rows),
            filename="residents.csv",
        ),
        DemoDataset(
            key="hotline_tickets",
            department="hotline",
            title="12345热线工单",
            title_en="12345 hotline tickets",
            description=(
                "12345政务服务便民热线受理的市民诉求工单，诉求内容为自由文本，可能含姓名、电话、"
                "身份证号和住址。(Citizen hotline tickets; the free-text complaints may contain "
                "names, phone numbers, ID numbers and addresses.)"
            ),
            sharing="conditional",
            level="L3",
            legal_basis=None,
            keywords="12345,热线,工单,诉求,投诉,hotline,complaints,tickets",
            frame=_tickets(rng_for("hotline_tickets"), people, rows),
            filename="hotline_tickets.csv",
        ),
        DemoDataset(
            key="market_entities",
            department="market",
            title="市场主体登记信息",
            title_en="Registered market entities",
            description=(
                "全市企业、个体工商户和农民专业合作社的登记信息（已依法公示）。"
                "(Register of companies, individual businesses and cooperatives; "
                "publicly disclosed.)"
            ),
            sharing="unconditional",
            level="L2",
            legal_basis=None,
            keywords="市场主体,企业,统一社会信用代码,工商登记,companies,business register",
            frame=_market(rng_for("market_entities"), people, rows),
            filename="market_entities.csv",
        ),
        DemoDataset(
            key="case_files",
            department="police",
            title="刑事案件侦查卷宗",
            title_en="Criminal investigation files",
            description=(
                "刑事案件立案及侦查卷宗目录，仅在目录中列示元数据，不予共享。"
                "(Criminal investigation files: listed in the catalog as metadata only; "
                "not shareable.)"
            ),
            sharing="none",
            level="L4",
            legal_basis=CASE_FILES_LEGAL_BASIS,
            keywords="刑事案件,侦查,卷宗,公安,criminal cases,investigation",
            frame=_case_files(rng_for("case_files"), min(rows, CASE_FILE_ROWS)),
            filename="case_files.csv",
        ),
        DemoDataset(
            key="health_clinics",
            department="health",
            title="医疗机构名录",
            title_en="Medical institutions",
            description=(
                "全市医疗卫生机构名录，含机构类别、地址、联系电话和床位数。"
                "(Directory of medical institutions: type, address, phone and beds.)"
            ),
            sharing="unconditional",
            level="L1",
            legal_basis=None,
            keywords="医疗机构,医院,诊所,卫生,名录,hospitals,clinics,health",
            frame=_clinics(rng_for("health_clinics"), people, rows),
            filename="health_clinics.csv",
        ),
    ]
