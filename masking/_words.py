"""Word lists shared by detection and masking: surnames, address suffixes, the Han class.

Plain data and pure functions (no jieba, no Presidio), so that masking a column by a plan
(``masking/_address.py``, the operators) and the profiling shortcut load neither.
"""

from __future__ import annotations

__all__ = ["HAN", "SURNAMES", "COMPOUND_SURNAMES", "ADMIN_SUFFIXES", "ADDRESS_SUFFIXES",
           "ADDRESS_HINT", "PERSON_CONTEXT", "HONORIFICS", "NAME_BREAKERS", "LOCATION_CONTEXT",
           "STREET_SUFFIXES_EN", "surname_of"]

#: One Chinese (CJK unified) character, for use inside regex character classes.
HAN = r"\u4e00-\u9fff"

SURNAMES = frozenset(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕"
    "丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃"
    "武戴莫孔向汤常温康施文牛樊葛邢安齐易乔伍庞颜倪庄聂章鲁岳翟殷詹申欧耿关兰焦俞左柳甘祝包宁尚符舒"
    "阮柯纪梅童凌毕单季裴霍涂成苗谷盛曲翁冉骆蓝路游辛靳管柴蒙鲍华喻祁蒲房滕屈饶解牟艾尤阳时穆农司卓"
    "古吉缪简车项连芦麦褚娄窦戚岑景党宫费卜冷晏席卫米柏宗瞿桂全佟应臧闵苟邬边卞姬师和仇栾隋商刁沙荣"
    "巫寇桑郎甄丛仲虞敖巩明佘池查麻苑迟邝官封谈匡鞠惠荆乐冀郁胥南班储原栗燕楚鄢劳谌奚皮粟冼蔺楼盘"
    "满闻位厉伊仝区郜海阚花权强帅屠豆朴盖练廉禹井祖漆巴丰支卿国狄平计索宣晋相初门云容敬来扈晁芮都"
    "普阙浦戈伏鹿薄邸雍辜羊阿乌母裘亓修邰赫杭况那宿鲜印逯隆茹诸战慕危玉银亢嵇公哈湛宾戎勾茅利於呼"
    "居揭干但尉冶斯元束檀衣信展阴昝智幸奉植衡富尧闭由萧傅阎赖洪"
)
COMPOUND_SURNAMES = frozenset(
    "欧阳 司马 上官 诸葛 东方 皇甫 尉迟 公孙 慕容 长孙 宇文 司徒 令狐 夏侯 轩辕 端木 独孤 "
    "南宫 西门 百里 呼延 万俟".split()
)
#: Suffixes of administrative units, most general first; the mask keeps down to 区/县/旗.
ADMIN_SUFFIXES = ("特别行政区", "自治区", "自治州", "省", "市", "州", "盟", "地区", "区", "县",
                  "旗", "镇", "乡", "街道")
#: Suffixes that end one unit of a street address.
ADDRESS_SUFFIXES = ADMIN_SUFFIXES + (
    "村", "社区", "大道", "路", "街", "巷", "胡同", "弄", "里", "小区", "花园", "苑", "公寓",
    "大厦", "广场", "新村", "园",
)
#: A Chinese character then a common address suffix: a text without one (nor anything else the
#: prefilter looks for) holds no address (``masking.engine.may_contain_pii``).
ADDRESS_HINT = r"[\u4e00-\u9fff](?:省|市|区|县|旗|镇|乡|路|街|巷|弄|村|号|小区|花园|苑|大厦)"
#: Context words of person names (the name recognizer's ``CONTEXT``).
PERSON_CONTEXT: tuple[str, ...] = (
    "姓名", "市民", "先生", "女士", "来电人", "联系人", "投诉人", "举报人", "申请人", "当事人",
    "患者", "户主", "业主", "居民", "村民", "法定代表人", "法人", "经办人", "负责人", "收件人",
    "收货人", "监护人", "家属", "被申请人", "受害人", "嫌疑人", "群众", "老人", "name",
    "我叫", "名叫", "本人", "反映人", "报案人", "求助人", "来访人",
)
#: Honorifics that follow a surname (王先生): the name recognizer's ``HONORIFICS``.
HONORIFICS: tuple[str, ...] = ("先生", "女士", "同志", "老师", "师傅")
#: Characters no Chinese given name is read to hold next to a name (来电, 说, 的 …).
NAME_BREAKERS = frozenset("来去说称电在的了和与及向对于反投诉举报要求请")
#: Context words of addresses (the address recognizer's ``CONTEXT``).
LOCATION_CONTEXT: tuple[str, ...] = (
    "住址", "家住", "地址", "住在", "居住在", "居住地", "现住", "户籍地", "户籍", "位于", "籍贯",
    "所在地", "送达地址", "address",
)

#: Street suffixes of US addresses (USPS Publication 28, appendix C1, and common short forms),
#: upper case: the last word of a street's name (``Main Street``, ``Douglas Mews``).
STREET_SUFFIXES_EN = frozenset("""
    ALLEY ANNEX ARCADE AVENUE AVE BAYOU BEACH BEND BLUFF BLUFFS BOTTOM BOULEVARD BLVD BRANCH
    BRIDGE BROOK BROOKS BURG BURGS BYPASS CAMP CANYON CAPE CAUSEWAY CENTER CENTERS CENTRE CIRCLE
    CIRCLES CLIFF CLIFFS CLUB COMMON COMMONS CORNER CORNERS COURSE COURT COURTS COVE COVES CREEK
    CRESCENT CREST CROSSING CROSSROAD CROSSROADS CURVE DALE DAM DIVIDE DRIVE DRIVES ESTATE
    ESTATES EXPRESSWAY EXTENSION EXTENSIONS FALL FALLS FERRY FIELD FIELDS FLAT FLATS FORD FORDS
    FOREST FORGE FORGES FORK FORKS FORT FREEWAY GARDEN GARDENS GATEWAY GLEN GLENS GREEN GREENS
    GROVE GROVES HARBOR HARBORS HARBOUR HAVEN HEIGHTS HIGHWAY HILL HILLS HOLLOW INLET ISLAND
    ISLANDS ISLE JUNCTION JUNCTIONS KEY KEYS KNOLL KNOLLS LAKE LAKES LAND LANDING LANE LIGHT
    LIGHTS LOAF LOCK LOCKS LODGE LOOP MALL MANOR MANORS MEADOW MEADOWS MEWS MILL MILLS MISSION
    MOTORWAY MOUNT MOUNTAIN MOUNTAINS NECK ORCHARD OVAL OVERPASS PARK PARKS PARKWAY PARKWAYS PASS
    PASSAGE PATH PIKE PINE PINES PLACE PLAIN PLAINS PLAZA POINT POINTS PORT PORTS PRAIRIE RADIAL
    RAMP RANCH RAPID RAPIDS REST RIDGE RIDGES RIVER ROAD RD ROADS ROUTE ROW RUE RUN SHOAL SHOALS
    SHORE SHORES SKYWAY SPRING SPRINGS SPUR SPURS SQUARE SQUARES ST STATION STRAVENUE STREAM
    STREET STREETS SUMMIT TERRACE THROUGHWAY TRACE TRACK TRAFFICWAY TRAIL TRAILER TUNNEL TURNPIKE
    UNDERPASS UNION UNIONS VALLEY VALLEYS VIA VIADUCT VIEW VIEWS VILLAGE VILLAGES VILLE VISTA
    WALK WALKS WALL WAY WAYS WELL WELLS
""".split())


def surname_of(name: str) -> str:
    """The surname at the start of ``name`` ("" when it does not start with a known surname)."""
    if name[:2] in COMPOUND_SURNAMES:
        return name[:2]
    return name[:1] if name[:1] in SURNAMES else ""
