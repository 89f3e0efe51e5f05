"""The catalog exported for other catalogs: DCAT-AP 3.0.1 JSON-LD that rdflib reads offline
and the DCAT-AP SHACL shapes accept (pyshacl), and the national directory's structure as JSON
and XLSX. Metadata only: no value of a published file appears in any export.

The shapes are ``tests/vectors/dcat-ap`` (SEMICeu DCAT-AP 3.0.1, CC-BY 4.0, see its README):
``dcat-ap-SHACL.ttl`` as the shapes graph, ``ranges.ttl`` as the extra (ontology) graph, as the
vector's README says. A fresh instance of its own (two departments, four datasets, one of them
withdrawn); the API and its refusals on the demo instance.
"""

from __future__ import annotations

import io
import json
import socket
import urllib.request
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from urllib.parse import urlsplit

import openpyxl
import pyshacl
import pytest
import rdflib
import requests
from rdflib.namespace import DCAT, DCTERMS, RDF

from exchange.auth import Principal
from exchange.config import load_settings
from exchange.usecases import directory, publishing

from .conftest import new_instance

SHAPES = Path(__file__).parent.parent / "vectors" / "dcat-ap"
BASE = "http://govex.test/"
CIVIL = Principal("civil-steward", "", "civil", "steward")
HEALTH = Principal("health-steward", "", "health", "steward")
TAX = Principal("tax-requester", "", "tax", "requester")
#: Values of the published files: none may reach an export.
PERSONAL = ("王伟", "李娜", "11010519491231002X", "110105194912310037", "13812345678",
            "13912345678", "朝阳区幸福路8号")
RESIDENTS = ("姓名,身份证号,联系电话,住址,金额\n"
             "王伟,11010519491231002X,13812345678,朝阳区幸福路8号,120\n"
             "李娜,110105194912310037,13912345678,朝阳区幸福路8号,300\n").encode()
CLINICS = "机构名称,床位数\n社区卫生服务中心,40\n第一人民医院,800\n".encode()
EU = "http://publications.europa.eu/resource/authority/"
#: Every directory field of the catalog (the clinics' listing gives them all).
FULL = {"resource_code": "202001001/000017", "category": "theme", "theme": "health",
        "share_condition": "仅用于医保核查", "share_method": ["interface", "file"],
        "open_type": "conditional", "update_frequency": "monthly",
        "related_resources": ["100001/000001"],
        "contact": {"name": "数据管理科", "email": "data@health.example.gov.cn",
                    "phone": "028-12345678"},
        "license": "https://creativecommons.org/licenses/by/4.0/",
        "temporal": {"start": "2020-01-01", "end": None}, "spatial": ["510100"],
        "column_descriptions": {"床位数": "核定床位数"}}


@pytest.fixture(scope="module")
def instance(tmp_path_factory: pytest.TempPathFactory, settings_for) -> SimpleNamespace:
    settings = load_settings(settings_for(tmp_path_factory.mktemp("dcat-home")), environ={})
    svc, _ = new_instance(settings, CIVIL, HEALTH, TAX)

    def publish(who: Principal, title: str, data: bytes, **meta: Any) -> str:
        return publishing.publish(svc, who, filename="table.csv", data=data,
                                  metadata={"title": title, "level": "L2",
                                            "confirm_personal_data": True, **meta})["id"]
    ids = {"residents": publish(CIVIL, "低保对象名单", RESIDENTS, sharing="conditional",
                                description="城市最低生活保障对象", keywords="低保 救助"),
           "secret": publish(CIVIL, "信访人员名单", RESIDENTS, sharing="none",
                             legal_basis="《信访工作条例》第四十条"),
           "clinics": publish(HEALTH, "医疗机构名录", CLINICS, sharing="unconditional", **FULL),
           "gone": publish(HEALTH, "已撤回的名录", CLINICS, sharing="unconditional")}
    publishing.withdraw(svc, HEALTH, ids["gone"], reason="重复登记")
    return SimpleNamespace(svc=svc, ids=ids)


def _export(instance: SimpleNamespace, fmt: str) -> bytes:
    made = directory.export(instance.svc, TAX, fmt=fmt, base_url=BASE)
    return b"".join(made.blocks)


@pytest.fixture
def offline(monkeypatch: pytest.MonkeyPatch) -> None:
    """No network: a JSON-LD processor that fetched a context would fail."""
    def refuse(*_args: Any, **_kw: Any) -> Any:
        raise AssertionError("the network was used")
    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(urllib.request, "urlopen", refuse)


def test_the_network_guard_stops_a_remote_context(offline) -> None:
    """What ``offline`` proves: rdflib asked to fetch a context cannot."""
    remote = json.dumps({"@context": "http://context.test/dcat.jsonld", "@id": "urn:x:1",
                         "title": "x"})
    with pytest.raises(Exception, match="network was used"):
        rdflib.Graph().parse(data=remote, format="json-ld")


def _graph(data: bytes) -> rdflib.Graph:
    return rdflib.Graph().parse(data=data.decode("utf-8"), format="json-ld")


def _validate(graph: rdflib.Graph) -> tuple[bool, str]:
    shapes = rdflib.Graph().parse(SHAPES / "dcat-ap-SHACL.ttl")
    ranges = rdflib.Graph().parse(SHAPES / "ranges.ttl")
    conforms, _report, text = pyshacl.validate(graph, shacl_graph=shapes, ont_graph=ranges,
                                               inference="none", allow_warnings=False)
    return conforms, text


def _datasets(graph: rdflib.Graph) -> dict[str, rdflib.URIRef]:
    """Each ``dcat:Dataset`` of the catalog, by govex id."""
    catalog = next(graph.subjects(RDF.type, DCAT.Catalog))
    return {str(node).rsplit("/", 1)[-1].removesuffix("#dataset"): node
            for node in graph.objects(catalog, DCAT.dataset)}


def test_the_jsonld_parses_offline_and_conforms_to_dcat_ap(instance, offline) -> None:
    graph = _graph(_export(instance, "jsonld"))
    conforms, report = _validate(graph)
    assert conforms, report
    found = _datasets(graph)
    ids = instance.ids
    assert set(found) == {ids["residents"], ids["secret"], ids["clinics"]}  # not withdrawn
    residents = found[ids["residents"]]
    assert graph.value(residents, DCTERMS.title) == rdflib.Literal("低保对象名单", lang="zh")
    assert graph.value(residents, DCTERMS.accessRights) == rdflib.URIRef(
        f"{EU}access-right/RESTRICTED")
    assert graph.value(found[ids["secret"]], DCTERMS.accessRights) == rdflib.URIRef(
        f"{EU}access-right/NON_PUBLIC")
    assert set(graph.objects(residents, DCAT.keyword)) == {rdflib.Literal("低保", lang="zh"),
                                                           rdflib.Literal("救助", lang="zh")}
    publisher = graph.value(residents, DCTERMS.publisher)
    assert (publisher, RDF.type, rdflib.FOAF.Agent) in graph
    distribution = graph.value(residents, DCAT.distribution)
    assert graph.value(distribution, DCTERMS["format"]) == rdflib.URIRef(f"{EU}file-type/CSV")
    assert int(graph.value(distribution, DCAT.byteSize)) == len(RESIDENTS)
    assert str(graph.value(distribution, DCAT.accessURL)) == f"{BASE}catalog/{ids['residents']}"


def test_every_directory_field_maps_to_dcat_ap_and_conforms(instance, offline) -> None:
    graph = _graph(_export(instance, "jsonld"))
    conforms, report = _validate(graph)
    assert conforms, report
    clinics = _datasets(graph)[instance.ids["clinics"]]
    assert str(graph.value(clinics, DCTERMS.identifier)) == FULL["resource_code"]
    assert set(graph.objects(clinics, DCAT.theme)) == {
        rdflib.URIRef(f"{EU}data-theme/HEAL"), rdflib.URIRef(f"{BASE}catalog/themes/health")}
    assert rdflib.Literal("健康保障", lang="zh") in set(graph.objects(
        rdflib.URIRef(f"{BASE}catalog/themes/health"), rdflib.SKOS.prefLabel))
    assert graph.value(clinics, DCTERMS.accrualPeriodicity) == rdflib.URIRef(
        f"{EU}frequency/MONTHLY")
    assert graph.value(clinics, DCTERMS.accessRights) == rdflib.URIRef(
        f"{EU}access-right/PUBLIC")
    period = graph.value(clinics, DCTERMS.temporal)
    assert str(graph.value(period, DCAT.startDate)) == "2020-01-01"
    contact = graph.value(clinics, DCAT.contactPoint)
    vcard = rdflib.Namespace("http://www.w3.org/2006/vcard/ns#")
    assert graph.value(contact, vcard.hasEmail) == rdflib.URIRef(
        "mailto:data@health.example.gov.cn")
    licence = graph.value(graph.value(clinics, DCAT.distribution), DCTERMS.license)
    assert licence == rdflib.URIRef(FULL["license"])
    assert graph.value(clinics, DCTERMS.spatial) is not None


def test_a_licence_given_as_text_is_a_licence_document_too(instance, offline,
                                                           monkeypatch) -> None:
    real = directory.dataset_view
    monkeypatch.setattr(directory, "dataset_view", lambda d, **kw: real(d, **kw) | {
        "directory": {"license": "政务数据共享协议（2024 版）"}})
    conforms, report = _validate(_graph(_export(instance, "jsonld")))
    assert conforms, report


def test_a_dataset_without_its_title_fails_the_shapes(instance, offline) -> None:
    """The validation runs: the shapes refuse a dataset that lost its mandatory title."""
    graph = _graph(_export(instance, "jsonld"))
    residents = _datasets(graph)[instance.ids["residents"]]
    graph.remove((residents, DCTERMS.title, None))
    conforms, report = _validate(graph)
    assert not conforms
    assert "Results (1)" in report and "MinCountConstraintComponent" in report
    assert f"<{residents}>->dc1:title" in report


def test_a_catalog_without_a_publisher_fails_the_shapes(instance, offline) -> None:
    graph = _graph(_export(instance, "jsonld"))
    catalog = next(graph.subjects(RDF.type, DCAT.Catalog))
    graph.remove((catalog, DCTERMS.publisher, None))
    assert not _validate(graph)[0]


def _xlsx_sheets(data: bytes) -> dict[str, list[list[Any]]]:
    book = openpyxl.load_workbook(io.BytesIO(data), read_only=True)
    return {sheet.title: [list(row) for row in sheet.iter_rows(values_only=True)]
            for sheet in book.worksheets}


def test_no_value_of_a_published_file_appears_in_any_export(instance) -> None:
    for fmt in directory.EXPORT_FORMATS:
        data = _export(instance, fmt)
        text = json.dumps(_xlsx_sheets(data), ensure_ascii=False, default=str) \
            if fmt == "directory-xlsx" else data.decode("utf-8")
        assert "低保对象名单" in text
        if fmt != "jsonld":
            assert "身份证号" in text  # the column names are metadata: they are there
        leaked = [value for value in PERSONAL if value in text]
        assert not leaked, (fmt, leaked)


def test_the_xlsx_has_a_row_per_dataset_and_one_per_column(instance) -> None:
    sheets = _xlsx_sheets(_export(instance, "directory-xlsx"))
    assert list(sheets) == ["信息资源", "信息项"]
    resources, items = sheets["信息资源"], sheets["信息项"]
    assert tuple(resources[0]) == directory.RESOURCE_COLUMNS
    assert tuple(items[0]) == directory.ITEM_COLUMNS
    ids = instance.ids
    by_id = {row[directory.RESOURCE_COLUMNS.index("govex 标识")]: row for row in resources[1:]}
    assert set(by_id) == {ids["residents"], ids["secret"], ids["clinics"]}
    assert len(resources) == 1 + 3
    assert len(items) == 1 + 5 + 5 + 2  # the columns of each file
    secret = dict(zip(directory.RESOURCE_COLUMNS, by_id[ids["secret"]]))
    assert secret["共享类型"] == "不予共享" and secret["共享条件"] == "《信访工作条例》第四十条"
    assert secret["信息资源提供方代码"] == "civil" and secret["信息项数"] == "5"
    names = [row[3] for row in items[1:] if row[0] == FULL["resource_code"]]
    assert names == ["机构名称", "床位数"]


def test_the_directory_json_uses_the_guides_names(instance) -> None:
    document = json.loads(_export(instance, "directory-json"))
    assert "GB/T 21063.3-2007" in document["标准"]
    resources = {r["govex"]["id"]: r for r in document["信息资源"]}
    assert len(resources) == 3
    clinics = resources[instance.ids["clinics"]]
    assert set(clinics) >= {"信息资源分类", "信息资源名称", "信息资源代码", "信息资源提供方",
                            "信息资源提供方代码", "信息资源摘要", "信息资源格式", "信息项信息",
                            "共享属性", "开放属性", "更新周期", "发布日期", "关联资源代码"}
    assert clinics["信息资源分类"] == {"类": "2", "类名称": "主题信息资源", "项": "02",
                                   "项名称": "健康保障", "目": "001", "细目": "001"}
    assert clinics["共享属性"] == {"共享类型": "无条件共享", "共享条件": "仅用于医保核查",
                               "共享方式": ["接口", "文件"]}
    assert clinics["开放属性"] == {"是否向社会开放": "是", "开放条件": "有条件开放"}
    assert clinics["更新周期"] == "每月" and len(clinics["发布日期"]) == 10
    assert clinics["关联资源代码"] == ["100001/000001"]
    assert clinics["信息项信息"] == [
        {"信息项名称": "机构名称", "数据类型": "字符型C", "长度": 8, "描述": None},
        {"信息项名称": "床位数", "数据类型": "整型I", "长度": 3, "描述": "核定床位数"}]
    assert clinics["信息资源格式"] == {"类型": "电子表格", "格式": "csv"}


def test_missing_directory_keys_take_their_defaults(instance) -> None:
    document = json.loads(_export(instance, "directory-json"))
    residents = next(r for r in document["信息资源"]
                     if r["govex"]["id"] == instance.ids["residents"])
    assert residents["信息资源代码"] == "civil/" + instance.ids["residents"][3:]  # the default
    assert residents["信息资源分类"]["类"] == "3" and residents["更新周期"] == "不定期"
    assert residents["开放属性"]["是否向社会开放"] == "否"


def test_the_catalog_is_read_a_page_at_a_time(instance, monkeypatch) -> None:
    from catalog import repository
    pages: list[int] = []
    real = repository.search_datasets

    def counted(conn: Any, **kw: Any) -> Any:
        found = real(conn, **kw)
        pages.append(len(found))
        return found
    monkeypatch.setattr(directory.repository, "search_datasets", counted)
    monkeypatch.setattr(directory, "PAGE_SIZE", 2)
    document = json.loads(_export(instance, "directory-json"))
    ids = [r["govex"]["id"] for r in document["信息资源"]]
    assert sorted(ids) == sorted(set(ids)) and len(ids) == 3
    assert pages == [2, 1]


def test_an_unknown_format_is_refused(instance) -> None:
    from exchange.errors import InvalidInput
    with pytest.raises(InvalidInput):
        directory.export(instance.svc, TAX, fmt="rdfxml", base_url=BASE)


# -- the API and the CLI, on the demo instance ---------------------------------------------------
PATHS = {"jsonld": "/api/v1/catalog.jsonld", "directory-json": "/api/v1/catalog/directory.json",
         "directory-xlsx": "/api/v1/catalog/directory.xlsx"}


@pytest.mark.parametrize("path", PATHS.values())
def test_the_exports_need_a_signed_in_user(as_role, path) -> None:
    assert as_role(None).get(path).status_code == 401


def test_any_signed_in_user_gets_the_exports(as_role, datasets, offline) -> None:
    answer = as_role("health-requester").get(PATHS["jsonld"])
    assert answer.status_code == 200
    assert answer.mimetype == "application/ld+json"
    assert "attachment" in answer.headers["Content-Disposition"]
    graph = _graph(answer.get_data())
    conforms, report = _validate(graph)
    assert conforms, report
    assert len(_datasets(graph)) >= len(datasets)
    answer = as_role("audit-auditor").get(PATHS["directory-xlsx"])
    assert answer.status_code == 200
    assert int(answer.headers["Content-Length"]) == len(answer.get_data())
    assert len(_xlsx_sheets(answer.get_data())["信息资源"]) == 1 + len(_datasets(graph))
    answer = as_role("civil-steward").get(PATHS["directory-json"])
    assert answer.status_code == 200 and answer.is_json
    assert len(answer.get_json()["信息资源"]) == len(_datasets(graph))


class _ThroughFlask(requests.adapters.BaseAdapter):
    """The real client's requests, answered by the Flask app instead of the network."""

    def __init__(self, app: Any) -> None:
        super().__init__()
        self._app = app

    def send(self, request: requests.PreparedRequest, **_kw: Any) -> requests.Response:
        url = urlsplit(request.url)
        answer = self._app.test_client().open(url.path, method=request.method,
                                              query_string=url.query,
                                              headers=dict(request.headers))
        response = requests.Response()
        response.status_code, response.url, response.request = \
            answer.status_code, request.url, request
        response.headers = requests.structures.CaseInsensitiveDict(answer.headers)
        response.raw = io.BytesIO(answer.get_data())
        return response

    def close(self) -> None:
        pass


@pytest.mark.parametrize("fmt", list(PATHS))
def test_govex_catalog_export_writes_the_file(app, users, monkeypatch, tmp_path, fmt) -> None:
    from click.testing import CliRunner

    from exchange.cli import cli
    from exchange.cli._root import Context
    from exchange.client import Client

    def client(self: Context) -> Client:
        made = Client("http://govex.test", token=users["health-requester"]["token"])
        made._session.mount("http://govex.test", _ThroughFlask(app))
        return made
    monkeypatch.setattr(Context, "client", client)
    output = tmp_path / f"catalog.{fmt}"
    done = CliRunner().invoke(cli, ["catalog", "export", "--format", fmt, "-o", str(output)])
    assert done.exit_code == 0, done.output
    assert "wrote" in done.output and not output.with_name(output.name + ".part").exists()
    data = output.read_bytes()
    if fmt == "jsonld":
        assert len(_datasets(_graph(data))) > 0
    elif fmt == "directory-json":
        assert json.loads(data)["信息资源"]
    else:
        assert len(_xlsx_sheets(data)["信息项"]) > 1


def test_the_catalog_is_published_by_the_instance_named_in_the_settings(instance) -> None:
    assert load_settings(environ={"GOVEX_INSTANCE_NAME": "成都市"}).instance_name == "成都市"
    graph = _graph(_export(instance, "jsonld"))
    catalog = next(graph.subjects(RDF.type, DCAT.Catalog))
    publisher = graph.value(catalog, DCTERMS.publisher)
    assert str(graph.value(publisher, rdflib.FOAF.name)) == \
        instance.svc.settings.instance_name
    secret = _datasets(graph)[instance.ids["secret"]]  # published without a description
    assert "暂无摘要" in str(graph.value(secret, DCTERMS.description))
