"""A value that is nothing but a person's name, in any script: the part that needs no Presidio.

- **English** (and other names written the English way): a given name, optional middle names
  or initials, a surname (``Douglas King``, ``KING, Douglas``, ``Dr. Rachel A. Becker Jr.``).
  Given names and surnames are looked up in the US Census Bureau's 1990 name lists (public
  domain; ``masking/data/README.md``): the ones covering about 90 % of people.
- **Hanyu Pinyin**: a Chinese surname's pinyin and a given name of one to three syllables, in
  either order (``Zhang Wei``, ``WANG Fang``, ``Li Xiao-ming``, ``Wang, Fang``, ``Xiaoming Li``).
  The surnames are the readings of :data:`masking._words.SURNAMES`; a given name must split
  into syllables of Mandarin (a closed set of about 400).
- **Chinese characters**: a known surname and one to three more characters not ending like an
  address (``张伟``), or a minority name joined by ``·``.

:func:`latin_name_kind` says how sure the lists make a Latin-script value: ``KNOWN`` when both
the given name and the surname are on the lists (or it reads as pinyin), ``PARTIAL`` when only
one is. The lists are read on first use (~40 ms); nothing else is loaded.
"""

from __future__ import annotations

import functools
import re
from importlib import resources

from masking._words import ADDRESS_SUFFIXES, HAN, STREET_SUFFIXES_EN, surname_of

__all__ = ["KNOWN", "PARTIAL", "SHAPE", "han_name_shaped", "latin_name_kind", "name_shaped"]

KNOWN = "known"
PARTIAL = "partial"

#: A whole value that may be a Latin-script name: two to six capitalised words (a title and a
#: suffix included), commas and spaces between them. Case-sensitive; cheap.
SHAPE = r"^\s*[A-Z][A-Za-z.'’-]*(?:(?:\s*,\s*|\s+)[A-Za-z][A-Za-z.'’-]*){1,5}\s*$"
_SHAPE = re.compile(SHAPE)

_TITLES = frozenset("MR MRS MS MISS MX DR PROF SIR DAME MADAM".split())
_SUFFIXES = frozenset("JR SR I II III IV V MD DDS PHD DVM ESQ".split())
#: Lower-case particles inside a name (Ludwig van Beethoven, Maria de la Cruz).
_PARTICLES = frozenset(
    "van von der den de del della da di du la le dos das bin binti al el y".split())
#: Words that make a run of capitalised words an organisation, a phrase or a status, not a
#: person (``Acme Ltd``, ``Customer Service``, ``Yes No``).
_NOT_NAME_WORDS = frozenset("""
    THE OF AND FOR IN ON AT TO FROM WITH BY OR NOT NO YES NONE NULL UNKNOWN TBD
    INC LTD LLC LLP PLC CO CORP CORPORATION COMPANY GROUP HOLDINGS LIMITED PARTNERS ASSOCIATES
    SERVICES SERVICE SOLUTIONS SYSTEMS TECHNOLOGIES TECHNOLOGY INDUSTRIES INTERNATIONAL GLOBAL
    BANK FOUNDATION INSTITUTE UNIVERSITY COLLEGE SCHOOL ACADEMY HOSPITAL CLINIC MUSEUM LIBRARY
    DEPARTMENT BUREAU OFFICE MINISTRY COUNCIL COMMITTEE AGENCY AUTHORITY
    MALE FEMALE TRUE FALSE OPEN CLOSED PENDING APPROVED REJECTED
""".split())
#: Last words that make a place of a name (``Douglas Mews``, ``Virginia Beach``). Many are
#: surnames too (Hill, Park, Lane), so a name ending in one is only :data:`PARTIAL`.
_PLACE_WORDS = STREET_SUFFIXES_EN | frozenset("""
    CITY COUNTY DISTRICT PROVINCE STATE REPUBLIC BAY PORT AIRPORT HOTEL STADIUM ARENA THEATRE
    THEATER TEMPLE CATHEDRAL CHURCH MARKET TOWER TOWERS
""".split())

_SYLLABLES = frozenset("""
    a ai an ang ao ba bai ban bang bao bei ben beng bi bian biao bie bin bing bo bu ca cai can
    cang cao ce cen ceng cha chai chan chang chao che chen cheng chi chong chou chu chua chuai
    chuan chuang chui chun chuo ci cong cou cu cuan cui cun cuo da dai dan dang dao de dei den
    deng di dia dian diao die ding diu dong dou du duan dui dun duo e ei en eng er fa fan fang
    fei fen feng fo fou fu ga gai gan gang gao ge gei gen geng gong gou gu gua guai guan guang
    gui gun guo ha hai han hang hao he hei hen heng hong hou hu hua huai huan huang hui hun huo
    ji jia jian jiang jiao jie jin jing jiong jiu ju juan jue jun ka kai kan kang kao ke kei ken
    keng kong kou ku kua kuai kuan kuang kui kun kuo la lai lan lang lao le lei leng li lia lian
    liang liao lie lin ling liu lo long lou lu lv luan lue lve lun luo ma mai man mang mao me mei
    men meng mi mian miao mie min ming miu mo mou mu na nai nan nang nao ne nei nen neng ni nian
    niang niao nie nin ning niu nong nou nu nv nuan nue nve nuo o ou pa pai pan pang pao pei pen
    peng pi pian piao pie pin ping po pou pu qi qia qian qiang qiao qie qin qing qiong qiu qu
    quan que qun ran rang rao re ren reng ri rong rou ru rua ruan rui run ruo sa sai san sang sao
    se sen seng sha shai shan shang shao she shei shen sheng shi shou shu shua shuai shuan shuang
    shui shun shuo si song sou su suan sui sun suo ta tai tan tang tao te teng ti tian tiao tie
    ting tong tou tu tuan tui tun tuo wa wai wan wang wei wen weng wo wu xi xia xian xiang xiao
    xie xin xing xiong xiu xu xuan xue xun ya yan yang yao ye yi yin ying yo yong you yu yuan yue
    yun za zai zan zang zao ze zei zen zeng zha zhai zhan zhang zhao zhe zhei zhen zheng zhi zhong
    zhou zhu zhua zhuai zhuan zhuang zhui zhun zhuo zi zong zou zu zuan zui zun zuo
""".split())
_LONGEST_SYLLABLE = max(map(len, _SYLLABLES))

_TOKEN = re.compile(r"[^\s,]+|,")
_WORD = re.compile(r"[A-Z][A-Za-z]*(?:['’-][A-Za-z]+)*\.?")
_INITIAL = re.compile(r"[A-Z]\.?")
_HAN_NAME = re.compile(rf"[{HAN}]{{2,4}}")
_MINORITY_NAME = re.compile(rf"[{HAN}]{{1,6}}[·•][{HAN}]{{1,8}}")


@functools.cache
def _lists() -> tuple[frozenset[str], frozenset[str], frozenset[str]]:
    """(given names, surnames, pinyin surnames), upper-case ASCII / lower-case pinyin."""
    data = resources.files("masking") / "data"

    def lines(name: str) -> list[str]:
        return (data / name).read_text(encoding="utf-8").split("\n")

    given = frozenset(filter(None, lines("census1990_given.txt")))
    surnames = frozenset(filter(None, lines("census1990_surnames.txt")))
    pinyin = frozenset(line.split()[1] for line in lines("pinyin_surnames.txt") if line.strip())
    return given, surnames, pinyin


def latin_name_kind(value: str) -> str | None:
    """:data:`KNOWN`, :data:`PARTIAL` or None for a whole value in Latin script (see the module
    docstring); never raises."""
    if not _SHAPE.match(value):
        return None
    core, comma = _core_tokens(value)
    if core is None or not 2 <= len(core) <= 4:
        return None
    if _reads_as_pinyin(core, comma):
        return KNOWN
    return _english_kind(core, comma)


def _core_tokens(value: str) -> tuple[list[str] | None, int | None]:
    """The name's words without a leading title or trailing suffixes, and the index of the
    word a comma follows (None if no comma inside the name); (None, None) if some word is no
    name word."""
    tokens = _TOKEN.findall(value)
    words: list[str] = []
    comma = None
    for token in tokens:
        if token == ",":
            comma = len(words) - 1 if comma is None else -2  # two commas: not "Surname, Given"
        else:
            words.append(token)
    if words and _key(words[0]) in _TITLES and len(words) > 2:
        words, comma = words[1:], (comma - 1 if comma is not None and comma >= 0 else comma)
    while len(words) > 2 and _key(words[-1]) in _SUFFIXES:
        words.pop()
        if comma is not None and comma >= len(words) - 1:
            comma = None  # "Douglas King, Jr.": the comma was before the suffix
    if comma == -2 or any(not _is_name_word(w) for w in words):
        return None, None
    return words, comma


def _is_name_word(word: str) -> bool:
    if word in _PARTICLES:
        return True
    return bool(_WORD.fullmatch(word)) and _key(word) not in _NOT_NAME_WORDS


def _key(word: str) -> str:
    return re.sub(r"[.'’-]", "", word).upper()


def _english_kind(core: list[str], comma: int | None) -> str | None:
    if comma is not None and comma != 0:
        return None
    given, surname = (core[1], core[0]) if comma == 0 else (core[0], core[-1])
    given_known, _, _ = _lists()
    has_given = _key(given) in given_known
    has_surname = _known_surname(surname)
    if has_given and has_surname and _key(core[-1]) not in _PLACE_WORDS:
        return KNOWN
    if (has_given and not _INITIAL.fullmatch(surname)) or has_surname:
        return PARTIAL
    return None


def _known_surname(word: str) -> bool:
    """On the list, whole or one part of it (Smith-Jones, O'Brien as OBRIEN)."""
    _, surnames, _ = _lists()
    if _key(word) in surnames:
        return True
    parts = [p for p in re.split(r"[-’']", word.rstrip(".")) if len(p) > 1]
    return len(parts) > 1 and any(p.upper() in surnames for p in parts)


def _reads_as_pinyin(core: list[str], comma: int | None) -> bool:
    """A pinyin surname first or last, the other words a given name of 1-3 syllables."""
    if len(core) > 3 or (comma is not None and comma != 0):
        return False
    _, _, surnames = _lists()
    for surname, given in ((core[0], core[1:]), (core[-1], core[:-1])):
        if _pinyin_key(surname) in surnames and _syllable_count(given) in (1, 2, 3):
            return True
        if comma == 0:
            return False  # "Wang, Fang": the surname is the one before the comma
    return False


def _pinyin_key(word: str) -> str:
    key = word.lower().replace("ü", "v")
    return {"lyu": "lv", "nyu": "nv"}.get(key, key)


def _syllable_count(words: list[str]) -> int:
    """How many syllables the words split into (0 if one does not split into syllables)."""
    total = 0
    for word in words:
        for part in re.split(r"[-'’]", word):
            count = _split(part.lower().replace("ü", "v"))
            if not count:
                return 0
            total += count
    return total


@functools.lru_cache(maxsize=4096)
def _split(text: str) -> int:
    """The fewest pinyin syllables ``text`` splits into, 0 when it does not."""
    if not text.isascii() or not text.isalpha():
        return 0
    best = [0] + [0] * len(text)  # best[i]: fewest syllables for text[:i] (0: none)
    for end in range(1, len(text) + 1):
        for start in range(max(0, end - _LONGEST_SYLLABLE), end):
            if (start == 0 or best[start]) and text[start:end] in _SYLLABLES:
                count = best[start] + 1
                if not best[end] or count < best[end]:
                    best[end] = count
    return best[len(text)]


def han_name_shaped(value: str) -> bool:
    """A known surname and one to three more Chinese characters not ending like an address
    (张伟, 欧阳娜娜; not 王家园), or a minority name joined by ``·``."""
    if _MINORITY_NAME.fullmatch(value):
        return True
    return bool(_HAN_NAME.fullmatch(value)) and bool(surname_of(value)) \
        and len(surname_of(value)) < len(value) and not value.endswith(ADDRESS_SUFFIXES)


def name_shaped(value: str) -> bool:
    """A value shaped like a person's name in any script: :func:`han_name_shaped`, or a Latin
    one that :func:`latin_name_kind` reads as a name at all (known or partial)."""
    return han_name_shaped(value) or latin_name_kind(value) is not None
