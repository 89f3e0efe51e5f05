"""The catalog exported for other catalogs: DCAT-AP 3.0.1 JSON-LD, and the national government
information resource directory's structure (JSON and XLSX) that a provincial platform imports.

Metadata only: titles, descriptions, departments, columns' names and types, sharing terms.
Never a row of data, never a column's profile (its sample verdicts), never a file's digest.
Withdrawn datasets are left out. The catalog is read a page at a time (keyset paging, newest
first) and written as it is read, so a catalog of 10⁵ datasets is never held whole.

**DCAT-AP** (``application/ld+json``): the edition is DCAT-AP 3.0.1 (SEMIC), checked against
its SHACL shapes (``tests/vectors/dcat-ap``). The ``@context`` is inline (prefixes only), so
any JSON-LD processor reads the document offline. One ``dcat:Catalog`` published by the
instance (``settings.instance_name``); one ``dcat:Dataset`` per dataset, pointing back to the
catalog with ``@reverse`` so that datasets can be streamed; one ``foaf:Agent`` per department;
the controlled vocabularies used are EU Publications Office authority tables (data theme,
frequency, access right, file type) and IANA media types, each concept typed as the shapes
require, plus the directory's own theme and category concepts in Chinese.

**National directory**: 《政务信息资源目录编制指南（试行）》(发改高技〔2017〕1272号, 2017) with
the core metadata of GB/T 21063.3-2007 (政务信息资源目录体系 第3部分：核心元数据). Field
names are the guide's Chinese names; a ``govex`` object beside them holds the English machine
keys. The resource code (信息资源代码) is 前段码/后段码: 类 (1 digit: 1 基础, 2 主题, 3 部门),
项 (2 digits), 目 (3 digits), 细目 (variable), then ``/`` and the sequence number; its 项, 目
and 细目 are read back from it into 信息资源分类. Data types are the guide's (字符型C, 整型I,
数值型N, 日期型D, 日期时间型T, 逻辑型L). The XLSX holds two sheets: 信息资源 (one row per
resource) and 信息项 (one row per column of each resource).

Usage::

    made = export(svc, who, fmt="jsonld", base_url="https://govex.example.gov.cn/")
    for block in made.blocks:
        out.write(block)
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Iterator, Mapping
from typing import Any, BinaryIO

import pyarrow as pa

from catalog import dictionary, formats, open_sink_writer, repository

from .. import files
from ..auth import Principal
from ..errors import InvalidInput
from ..services import Services
from .admin import department_names
from .publishing import dataset_view

__all__ = ["EXPORT_FORMATS", "Export", "export", "EDITION", "DCAT_AP", "CONTEXT",
           "RESOURCE_COLUMNS", "ITEM_COLUMNS", "dataset_node", "directory_entry"]

EDITION = ("《政务信息资源目录编制指南（试行）》（发改高技〔2017〕1272号）；"
           "GB/T 21063.3-2007 政务信息资源目录体系 第3部分：核心元数据")
DCAT_AP = "https://semiceu.github.io/DCAT-AP/releases/3.0.1/"
PAGE_SIZE = 500  # datasets read at a time
_BLOCK = 1 << 16

#: Each format: its media type and file extension.
EXPORT_FORMATS = {
    "jsonld": ("application/ld+json", "jsonld"),
    "directory-json": ("application/json; charset=utf-8", "json"),
    "directory-xlsx": (formats.media_type("xlsx"), "xlsx"),
}

# -- the contract of ``dataset_view(...)["directory"]``, with what a missing key means ---------
_DEFAULTS: dict[str, Any] = {
    "resource_code": None,  # the dataset's id stands in
    "category": "department", "theme": None, "share_condition": None, "share_method": [],
    "open_type": "none", "update_frequency": "irregular", "related_resources": [],
    "contact": None, "license": None, "temporal": None, "spatial": [], "published_at": None,
}

#: The guide's 主题信息资源 (its 项 numbered in the guide's order, as ``catalog.dictionary``
#: lists them) → (Chinese, English, EU data theme).
_THEMES_EU = {
    "public_service": ("Public services", "GOVE"), "health": ("Health", "HEAL"),
    "social_security": ("Social security", "SOCI"),
    "food_drug_safety": ("Food and drug safety", "HEAL"),
    "work_safety": ("Work safety", "JUST"), "price_supervision": ("Price supervision", "ECON"),
    "energy_security": ("Energy security", "ENER"), "credit": ("Social credit", "ECON"),
    "urban_rural_construction": ("Urban and rural construction", "REGI"),
    "community_governance": ("Community governance", "SOCI"),
    "ecology_environment": ("Ecology and environment", "ENVI"),
    "emergency": ("Emergencies and public safety", "JUST"),
}
THEMES: dict[str, tuple[str, str, str]] = {
    key: (zh, *_THEMES_EU[key]) for key, zh in dictionary.THEMES.items()}
_EU_THEMES = {"GOVE": "Government and public sector", "HEAL": "Health",
              "SOCI": "Population and society", "JUST": "Justice, legal system and public safety",
              "ECON": "Economy and finance", "ENER": "Energy",
              "REGI": "Regions and cities", "ENVI": "Environment"}
#: 信息资源分类's 类: category → (code, Chinese, English).
_CATEGORIES_EN = {"basic": ("1", "Basic information resources"),
                  "theme": ("2", "Thematic information resources"),
                  "department": ("3", "Departmental information resources")}
CATEGORIES = {key: (_CATEGORIES_EN[key][0], zh, _CATEGORIES_EN[key][1])
              for key, zh in dictionary.CATEGORIES.items()}
#: 更新周期 → (Chinese, EU frequency).
_FREQUENCIES_EU = {"realtime": "UPDATE_CONT", "daily": "DAILY", "weekly": "WEEKLY",
                   "monthly": "MONTHLY", "quarterly": "QUARTERLY", "semiannual": "BIANNUAL",
                   "annual": "ANNUAL", "irregular": "IRREG"}
FREQUENCIES = {key: (zh, _FREQUENCIES_EU[key])
               for key, zh in dictionary.UPDATE_FREQUENCIES.items()}
#: 共享类型 → (Chinese, EU access right). Access here is access by other government
#: departments through the exchange (共享), not publication to the public (开放).
SHARING = {"unconditional": ("无条件共享", "PUBLIC"), "conditional": ("有条件共享", "RESTRICTED"),
           "none": ("不予共享", "NON_PUBLIC")}
SHARE_METHODS = dictionary.SHARE_METHODS
OPEN_TYPES = dictionary.OPEN_TYPES
#: A file format → (信息资源格式's kind, EU file type or None, IANA media type or None).
FILE_FORMATS = {"csv": ("电子表格", "CSV", "text/csv"),
                "xlsx": ("电子表格", "XLSX", "application/vnd.openxmlformats-officedocument."
                                            "spreadsheetml.sheet"),
                "parquet": ("其他", "PARQUET", None),
                "jsonl": ("自描述格式", None, None)}
#: Arrow type names → the guide's data types (with their one-letter codes: 字符型C, 数值型N,
#: 整型I, 日期型D, 日期时间型T, 逻辑型L), what a provincial platform's import expects.
DATA_TYPES = {"string": "字符型C", "large_string": "字符型C", "int64": "整型I", "int32": "整型I",
              "double": "数值型N", "float": "数值型N", "date32": "日期型D",
              "timestamp": "日期时间型T", "bool": "逻辑型L"}

_EU = "http://publications.europa.eu/resource/authority/"
_IANA = "https://www.iana.org/assignments/media-types/"
_ZHO = _EU + "language/ZHO"  # Chinese
#: The inline ``@context``: prefixes only (no remote context is ever needed).
CONTEXT = {"dcat": "http://www.w3.org/ns/dcat#", "dct": "http://purl.org/dc/terms/",
           "foaf": "http://xmlns.com/foaf/0.1/", "vcard": "http://www.w3.org/2006/vcard/ns#",
           "skos": "http://www.w3.org/2004/02/skos/core#",
           "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
           "xsd": "http://www.w3.org/2001/XMLSchema#"}

#: The 信息资源 sheet's columns (the guide's names; the last three are govex's).
RESOURCE_COLUMNS = ("信息资源代码", "信息资源名称", "类", "项", "目", "细目", "分类名称",
                    "信息资源提供方", "信息资源提供方代码", "信息资源摘要", "信息资源格式",
                    "共享类型", "共享条件", "共享方式", "是否向社会开放", "开放条件", "更新周期",
                    "发布日期", "关联资源代码", "信息项数", "govex 标识", "链接")
#: The 信息项 sheet's columns.
ITEM_COLUMNS = ("信息资源代码", "信息资源名称", "序号", "信息项名称", "数据类型", "长度", "描述")


@dataclasses.dataclass(frozen=True)
class Export:
    """A file to send: its ``blocks`` (produced as they are sent), ``filename``,
    ``media_type``, and ``length`` when known beforehand (XLSX)."""

    blocks: Iterator[bytes]
    filename: str
    media_type: str
    length: int | None = None

    def headers(self) -> dict[str, str]:
        """The HTTP headers that offer it for download."""
        headers = {"Content-Disposition": files.content_disposition(self.filename,
                                                                    fallback=self.filename),
                   "Cache-Control": "no-store"}
        if self.length is not None:
            headers["Content-Length"] = str(self.length)
        return headers


@dataclasses.dataclass(frozen=True)
class _Entry:
    """One dataset as exported: its record, its view, its directory metadata with defaults."""

    dataset: Any
    view: dict[str, Any]
    directory: dict[str, Any]
    columns: list[dict[str, Any]]
    code: str


def export(svc: Services, who: Principal, *, fmt: str, base_url: str) -> Export:
    """The catalog (every dataset not withdrawn) as ``fmt`` (one of :data:`EXPORT_FORMATS`),
    its links under ``base_url`` (the server's address, e.g. ``https://host/``). JSON is
    written while it is sent; an XLSX is complete (in a temporary file) before this returns.
    Raises Forbidden, InvalidInput (an unknown format)."""
    if fmt not in EXPORT_FORMATS:
        raise InvalidInput(f"format must be one of {', '.join(EXPORT_FORMATS)}",
                           code="format_unknown", formats=", ".join(EXPORT_FORMATS))
    svc.require(who, "catalog", "read")
    base = base_url.rstrip("/") + "/"
    media_type, ext = EXPORT_FORMATS[fmt]
    filename = files.dated_name("govex-catalog" if fmt == "jsonld" else "govex-directory",
                                svc.clock(), ext)
    names = department_names(svc)
    if fmt == "jsonld":
        blocks = _jsonld(svc, names, base)
        return Export(_encoded(blocks), filename, media_type)
    if fmt == "directory-json":
        return Export(_encoded(_directory_json(svc, names, base)), filename, media_type)
    blocks, length = _directory_xlsx(svc, names, base)
    return Export(blocks, filename, media_type, length)


# -- reading the catalog -----------------------------------------------------------------------
def _datasets(svc: Services) -> Iterator[Any]:
    """Every dataset not withdrawn, newest first, ``PAGE_SIZE`` read at a time."""
    after = None
    while True:
        with svc.reader.connect() as conn:
            page = repository.search_datasets(conn, limit=PAGE_SIZE, after=after)
        yield from page
        if len(page) < PAGE_SIZE:
            return
        after = (page[-1].created_at, page[-1].id)


def _entries(svc: Services) -> Iterator[_Entry]:
    for dataset in _datasets(svc):
        view = dataset_view(dataset)
        directory = _directory_of(view)
        columns = [{"name": str(c.get("name", "")), "dtype": c.get("dtype"),
                    "length": c.get("length"), "description": c.get("description")}
                   for c in view.get("columns") or []]  # never the profile
        yield _Entry(dataset, view, directory, columns,
                     directory["resource_code"] or dataset.id)


def _directory_of(view: Mapping[str, Any]) -> dict[str, Any]:
    """A dataset view's directory metadata, every key present (the default where missing)."""
    given = view.get("directory") or {}
    return {key: given.get(key) if given.get(key) is not None else default
            for key, default in _DEFAULTS.items()}


def _issued(entry: _Entry) -> str:
    return entry.directory["published_at"] or entry.dataset.created_at.isoformat()


def _modified(entry: _Entry) -> str:
    moments = [m for m in (entry.dataset.created_at, entry.dataset.updated_at,
                           entry.dataset.version.created_at if entry.dataset.version else None)
               if m is not None]
    return max(moments).isoformat()


def _keywords(text: str | None) -> list[str]:
    return [word for word in re.split(r"[\s,，、;；]+", text or "") if word]


# -- DCAT-AP -----------------------------------------------------------------------------------
def _jsonld(svc: Services, names: Mapping[str, tuple[str, str]], base: str) -> Iterator[str]:
    """The JSON-LD document, node by node: the catalog, the agents and vocabularies, then
    each dataset as it is read."""
    head = {"@context": CONTEXT}
    yield json.dumps(head, ensure_ascii=False)[:-1] + ', "@graph": [\n'
    first = True
    for node in _fixed_nodes(svc, names, base):
        yield ("" if first else ",\n") + json.dumps(node, ensure_ascii=False)
        first = False
    for entry in _entries(svc):
        yield ",\n" + json.dumps(dataset_node(entry, names, base), ensure_ascii=False)
    yield "\n]}\n"


def _lit(value: str, language: str = "zh") -> dict[str, str]:
    return {"@value": value, "@language": language}


def _typed(value: Any, datatype: str) -> dict[str, str]:
    return {"@value": str(value), "@type": datatype}


def _catalog_iri(base: str) -> str:
    return f"{base}catalog#catalog"


def _agent_iri(base: str, code: str) -> str:
    return f"{base}departments/{code}#agent"


def _concept(iri: str, labels: Mapping[str, str], scheme: str, *, types: tuple[str, ...] = (),
             notation: str | None = None) -> dict[str, Any]:
    node: dict[str, Any] = {"@id": iri, "@type": ["skos:Concept", *types],
                            "skos:prefLabel": [_lit(text, lang) for lang, text in labels.items()],
                            "skos:inScheme": {"@id": scheme}}
    if notation:
        node["skos:notation"] = notation
    return node


def _scheme(iri: str, title: str, language: str) -> dict[str, Any]:
    return {"@id": iri, "@type": "skos:ConceptScheme", "dct:title": _lit(title, language)}


def _fixed_nodes(svc: Services, names: Mapping[str, tuple[str, str]],
                 base: str) -> Iterator[dict[str, Any]]:
    """The catalog, its publisher, the departments, and every concept a dataset may use."""
    instance = svc.settings.instance_name
    themes, categories = f"{base}catalog/themes", f"{base}catalog/categories"
    yield {"@id": _catalog_iri(base), "@type": "dcat:Catalog",
           "dct:title": [_lit(f"{instance} 政务信息资源目录"),
                         _lit(f"{instance} government data catalog", "en")],
           "dct:description": [
               _lit(f"{instance} 数据共享交换平台的政务信息资源目录（仅元数据，不含数据）。"),
               _lit(f"The catalog of the {instance} data-sharing exchange (metadata only).",
                    "en")],
           "dct:publisher": {"@id": f"{base}#publisher"},
           "dct:language": {"@id": _ZHO},
           "foaf:homepage": {"@id": f"{base}catalog"},
           "dct:modified": _typed(svc.clock().isoformat(), "xsd:dateTime"),
           "dct:conformsTo": {"@id": DCAT_AP, "@type": "dct:Standard"},
           "dcat:themeTaxonomy": [{"@id": f"{_EU}data-theme"}, {"@id": themes},
                                  {"@id": categories}]}
    yield {"@id": f"{base}#publisher", "@type": "foaf:Agent",
           "foaf:name": _lit(instance, "zh")}
    yield {"@id": f"{base}catalog", "@type": "foaf:Document"}
    yield {"@id": _ZHO, "@type": "dct:LinguisticSystem"}
    for code, (zh, en) in sorted(names.items()):
        yield {"@id": _agent_iri(base, code), "@type": "foaf:Agent",
               "foaf:name": [_lit(zh), _lit(en, "en")], "dct:identifier": code}
    yield _scheme(f"{_EU}data-theme", "Data theme", "en")
    for code, label in _EU_THEMES.items():
        yield _concept(f"{_EU}data-theme/{code}", {"en": label}, f"{_EU}data-theme")
    yield _scheme(themes, "政务信息资源目录主题分类", "zh")
    for index, (key, (zh, en, _eu)) in enumerate(THEMES.items(), start=1):
        yield _concept(f"{themes}/{key}", {"zh": zh, "en": en}, themes,
                       notation=f"{index:02d}")
    yield _scheme(categories, "政务信息资源目录资源属性分类", "zh")
    for key, (code, zh, en) in CATEGORIES.items():
        yield _concept(f"{categories}/{key}", {"zh": zh, "en": en}, categories, notation=code)
    for key, (zh, eu) in FREQUENCIES.items():
        yield _concept(f"{_EU}frequency/{eu}", {"zh": zh, "en": key}, f"{_EU}frequency",
                       types=("dct:Frequency",))
    for key, (zh, eu) in SHARING.items():
        yield _concept(f"{_EU}access-right/{eu}", {"zh": zh, "en": eu.replace("_", " ").lower()},
                       f"{_EU}access-right", types=("dct:RightsStatement",))
    for kind, eu_type, media in FILE_FORMATS.values():
        if eu_type:
            yield {"@id": f"{_EU}file-type/{eu_type}", "@type": "dct:MediaTypeOrExtent"}
        if media:
            yield {"@id": _IANA + media, "@type": ["dct:MediaType", "dct:MediaTypeOrExtent"]}


def dataset_node(entry: _Entry, names: Mapping[str, tuple[str, str]],
                 base: str) -> dict[str, Any]:
    """One dataset as a ``dcat:Dataset`` node (metadata only)."""
    d, directory = entry.dataset, entry.directory
    page = f"{base}catalog/{d.id}"
    node: dict[str, Any] = {
        "@id": f"{page}#dataset", "@type": "dcat:Dataset",
        "@reverse": {"dcat:dataset": {"@id": _catalog_iri(base)}},
        "dct:identifier": entry.code,
        "dct:title": _lit(d.title),
        "dct:description": _lit(d.description or _no_summary(entry, names)),
        "dct:language": {"@id": _ZHO},
        "dct:publisher": {"@id": _agent_iri(base, d.department)},
        "dct:issued": _typed(_issued(entry), "xsd:dateTime"),
        "dct:modified": _typed(_modified(entry), "xsd:dateTime"),
        "dct:accessRights": {"@id": f"{_EU}access-right/{SHARING[d.sharing][1]}"}
        if d.sharing in SHARING else None,
        "dct:accrualPeriodicity": {"@id": f"{_EU}frequency/"
                                          f"{FREQUENCIES[directory['update_frequency']][1]}"}
        if directory["update_frequency"] in FREQUENCIES else None,
        "dct:type": {"@id": f"{base}catalog/categories/{directory['category']}"}
        if directory["category"] in CATEGORIES else None,
        "dcat:landingPage": {"@id": page, "@type": "foaf:Document"},
        "dcat:keyword": [_lit(word) for word in _keywords(d.keywords)] or None,
        "dcat:version": str(d.current_version),
    }
    theme = directory["theme"]
    if theme in THEMES:
        node["dcat:theme"] = [{"@id": f"{_EU}data-theme/{THEMES[theme][2]}"},
                              {"@id": f"{base}catalog/themes/{theme}"}]
    if directory["temporal"] and (directory["temporal"].get("start")
                                  or directory["temporal"].get("end")):
        period: dict[str, Any] = {"@type": "dct:PeriodOfTime"}
        for key, prop in (("start", "dcat:startDate"), ("end", "dcat:endDate")):
            if directory["temporal"].get(key):
                period[prop] = _typed(directory["temporal"][key], "xsd:date")
        node["dct:temporal"] = period
    if directory["spatial"]:
        node["dct:spatial"] = [{"@type": "dct:Location", "dct:identifier": str(code),
                                "skos:notation": str(code)} for code in directory["spatial"]]
    contact = directory["contact"]
    if contact and contact.get("name"):
        kind: dict[str, Any] = {"@type": "vcard:Kind", "vcard:fn": contact["name"]}
        if contact.get("email"):
            kind["vcard:hasEmail"] = {"@id": f"mailto:{contact['email']}"}
        if contact.get("phone"):
            kind["vcard:hasTelephone"] = {"@id": "tel:" + re.sub(r"[^0-9+\-]", "",
                                                                 str(contact["phone"]))}
        node["dcat:contactPoint"] = kind
    if d.version is not None:
        node["dcat:distribution"] = _distribution(entry, page)
    return {key: value for key, value in node.items() if value is not None}


def _no_summary(entry: _Entry, names: Mapping[str, tuple[str, str]]) -> str:
    """What a dataset without a description says (the shapes require one): facts only."""
    d = entry.dataset
    provider = names.get(d.department, (d.department,))[0]
    return f"{provider}提供的政务信息资源“{d.title}”，{len(entry.columns)} 个信息项；暂无摘要。"


def _distribution(entry: _Entry, page: str) -> dict[str, Any]:
    version, directory = entry.dataset.version, entry.directory
    _kind, eu_type, media = FILE_FORMATS.get(version.format, (None, None, None))
    dist: dict[str, Any] = {
        "@id": f"{page}#distribution", "@type": "dcat:Distribution",
        "dct:title": _lit(f"{entry.dataset.title}（第 {version.version} 版，经授权脱敏交付）"),
        "dcat:accessURL": {"@id": page},
        "dct:issued": _typed(version.created_at.isoformat(), "xsd:dateTime"),
        "dcat:byteSize": _typed(int(version.byte_size), "xsd:nonNegativeInteger"),
    }
    if eu_type:
        dist["dct:format"] = {"@id": f"{_EU}file-type/{eu_type}"}
    if media:
        dist["dcat:mediaType"] = {"@id": _IANA + media}
    licence = directory["license"]
    if licence:
        if re.match(r"^https?://\S+$", str(licence)):
            dist["dct:license"] = {"@id": str(licence), "@type": "dct:LicenseDocument"}
        else:
            dist["dct:license"] = {"@type": "dct:LicenseDocument",
                                   "rdfs:label": _lit(str(licence))}
    return dist


# -- the national directory ----------------------------------------------------------------------
def _classification(entry: _Entry) -> dict[str, Any]:
    """信息资源分类: 类 from the category, 项/目/细目 from the code's 前段码 (when it is one of
    the category), 项 from the theme otherwise."""
    category, theme = entry.directory["category"], entry.directory["theme"]
    klass, klass_name, _en = CATEGORIES.get(category, CATEGORIES["department"])
    item = sub = detail = None
    found = re.fullmatch(r"(\d)(\d{2})(\d{3})?(\d*)/\d+", entry.code)
    if found and found.group(1) == klass:
        item, sub, detail = found.group(2), found.group(3), found.group(4) or None
    item_name = None
    if category == "theme" and theme in THEMES:
        index = list(THEMES).index(theme) + 1
        item = item or f"{index:02d}"
        item_name = THEMES[theme][0] if item == f"{index:02d}" else None
    return {"类": klass, "类名称": klass_name, "项": item, "项名称": item_name, "目": sub,
            "细目": detail}


def _share(entry: _Entry) -> dict[str, Any]:
    d, directory = entry.dataset, entry.directory
    condition = directory["share_condition"]
    if d.sharing == "none" and not condition:
        condition = d.legal_basis  # 不予共享 states its legal basis
    return {"共享类型": SHARING.get(d.sharing, (d.sharing,))[0], "共享条件": condition,
            "共享方式": [SHARE_METHODS.get(m, m) for m in directory["share_method"]]}


def _open(entry: _Entry) -> dict[str, Any]:
    open_type = entry.directory["open_type"]
    return {"是否向社会开放": "否" if open_type == "none" else "是",
            "开放条件": OPEN_TYPES.get(open_type, open_type)}


def _items(entry: _Entry) -> list[dict[str, Any]]:
    return [{"信息项名称": c["name"], "数据类型": _data_type(c["dtype"]), "长度": c["length"],
             "描述": c["description"]} for c in entry.columns]


def _data_type(dtype: Any) -> str:
    name = str(dtype or "string")
    return DATA_TYPES.get(name) or DATA_TYPES.get(name.split("[")[0]) or f"字符型C（{name}）"


def directory_entry(entry: _Entry, names: Mapping[str, tuple[str, str]],
                    base: str) -> dict[str, Any]:
    """One resource in the national directory's structure (JSON)."""
    d, directory = entry.dataset, entry.directory
    fmt = d.version.format if d.version else None
    issued = _issued(entry)
    return {
        "信息资源分类": _classification(entry),
        "信息资源名称": d.title,
        "信息资源代码": entry.code,
        "信息资源提供方": names.get(d.department, (d.department,))[0],
        "信息资源提供方代码": d.department,
        "信息资源摘要": d.description,
        "信息资源格式": {"类型": FILE_FORMATS.get(fmt, ("其他",))[0], "格式": fmt}
        if fmt else None,
        "信息项信息": _items(entry),
        "共享属性": _share(entry),
        "开放属性": _open(entry),
        "更新周期": FREQUENCIES.get(directory["update_frequency"], ("不定期",))[0],
        "发布日期": issued[:10],
        "关联资源代码": list(directory["related_resources"]),
        "govex": {"id": d.id, "department": d.department, "category": directory["category"],
                  "theme": directory["theme"], "sharing": d.sharing, "level": d.level,
                  "share_method": list(directory["share_method"]),
                  "open_type": directory["open_type"],
                  "update_frequency": directory["update_frequency"],
                  "version": d.current_version, "published_at": issued,
                  "url": f"{base}catalog/{d.id}"},
    }


def _directory_json(svc: Services, names: Mapping[str, tuple[str, str]],
                    base: str) -> Iterator[str]:
    head = {"标准": EDITION, "目录名称": f"{svc.settings.instance_name} 政务信息资源目录",
            "导出时间": svc.clock().isoformat(), "来源": f"{base}catalog"}
    yield json.dumps(head, ensure_ascii=False, indent=1)[:-2] + ',\n "信息资源": [\n'
    first = True
    for entry in _entries(svc):
        yield ("" if first else ",\n") + json.dumps(directory_entry(entry, names, base),
                                                    ensure_ascii=False)
        first = False
    yield "\n ]\n}\n"


def _resource_row(record: dict[str, Any]) -> list[str | None]:
    klass = record["信息资源分类"]
    share, opened = record["共享属性"], record["开放属性"]
    fmt = record["信息资源格式"]
    return [record["信息资源代码"], record["信息资源名称"], klass["类"], klass["项"],
            klass["目"], klass["细目"],
            "/".join(n for n in (klass["类名称"], klass["项名称"]) if n),
            record["信息资源提供方"], record["信息资源提供方代码"], record["信息资源摘要"],
            f"{fmt['类型']}（{fmt['格式']}）" if fmt else None, share["共享类型"],
            share["共享条件"], "、".join(share["共享方式"]) or None, opened["是否向社会开放"],
            opened["开放条件"], record["更新周期"], record["发布日期"],
            "、".join(record["关联资源代码"]) or None, str(len(record["信息项信息"])),
            record["govex"]["id"], record["govex"]["url"]]


def _item_rows(record: dict[str, Any]) -> list[list[str | None]]:
    return [[record["信息资源代码"], record["信息资源名称"], str(number), item["信息项名称"],
             item["数据类型"], None if item["长度"] is None else str(item["长度"]),
             item["描述"]]
            for number, item in enumerate(record["信息项信息"], start=1)]


def _table(rows: list[list[str | None]], columns: tuple[str, ...]) -> pa.Table:
    if not rows:
        return pa.table({name: pa.array([], pa.string()) for name in columns})
    return pa.table([pa.array(values, pa.string()) for values in zip(*rows)],
                    names=list(columns))


def _directory_xlsx(svc: Services, names: Mapping[str, tuple[str, str]],
                    base: str) -> tuple[Iterator[bytes], int]:
    """The workbook (sheets 信息资源 and 信息项), complete, in a temporary file: its blocks
    and its length. Raises CatalogError when a sheet would pass XLSX's 1,048,575 rows."""
    def write(sink: BinaryIO) -> None:
        with open_sink_writer(sink, fmt="xlsx", columns=RESOURCE_COLUMNS,
                              sheet="信息资源") as resources:
            items = resources.add_sheet("信息项", ITEM_COLUMNS)
            held: list[list[str | None]] = []
            item_rows: list[list[str | None]] = []
            for entry in _entries(svc):
                record = directory_entry(entry, names, base)
                held.append(_resource_row(record))
                item_rows += _item_rows(record)
                if len(held) >= PAGE_SIZE or len(item_rows) >= 10 * PAGE_SIZE:
                    resources.write(_table(held, RESOURCE_COLUMNS))
                    items.write(_table(item_rows, ITEM_COLUMNS))
                    held, item_rows = [], []
            resources.write(_table(held, RESOURCE_COLUMNS))
            items.write(_table(item_rows, ITEM_COLUMNS))
            items.close()
    return files.spooled(write)


def _encoded(parts: Iterator[str]) -> Iterator[bytes]:
    """UTF-8 blocks of about ``_BLOCK`` bytes."""
    held: list[bytes] = []
    size = 0
    for part in parts:
        data = part.encode("utf-8")
        held.append(data)
        size += len(data)
        if size >= _BLOCK:
            yield b"".join(held)
            held, size = [], 0
    if held:
        yield b"".join(held)
