"""Client commands of ``govex``: catalog, requests, decisions, delivery, receipts."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import click

from ._root import Context, pass_ctx

__all__ = ["COMMANDS"]

REFUSED_EXIT = 3  # `govex request`: refused at once (not-shareable data)
_IDS = click.option("--ids", is_flag=True, help="Print only the ids, one per line (for scripts).")


def _print_ids(found: list[dict]) -> None:
    for item in found:
        click.echo(item["id"])


@click.command()
@click.option("--q", "q", help="Words to search for.")
@click.option("--department", help="Only this department's datasets.")
@click.option("--sort", type=click.Choice(["newest", "changed", "relevance"]),
              help="newest published first, last changed first, or (with --q) best match "
                   "first [default: relevance with --q, else newest]")
@_IDS
@pass_ctx
def datasets(ctx: Context, q: str | None, department: str | None, sort: str | None,
             ids: bool) -> None:
    """Search the catalog."""
    found = ctx.client().datasets(q=q, department=department, sort=sort)
    if ids:
        return _print_ids(found)
    lines = [f"{d['id']}  {d['department']:<9} {d['sharing']:<13} {d['level']}  {d['title']}"
             for d in found]
    ctx.emit({"datasets": found}, "\n".join(lines) or "no datasets found")


@click.command()
@click.argument("dataset_id")
@pass_ctx
def dataset(ctx: Context, dataset_id: str) -> None:
    """Show one dataset: columns, detected personal data, quality."""
    d = ctx.client().dataset(dataset_id)
    cols = [f"  {c['name']:<12} {(c.get('profile') or {}).get('kind', '-'):<10} "
            f"{(c.get('profile') or {}).get('entity') or ''}".rstrip()
            for c in d.get("columns", [])]
    human = (f"{d['id']}  {d['title']}\n{d['department']} · {d['sharing']} · {d['level']} · "
             f"{d['row_count']} rows · quality {_quality(d.get('quality') or {})}\n"
             + "\n".join(cols))
    ctx.emit(d, human)


def _quality(report: dict) -> str:
    results = report.get("results") or []
    failed = [r for r in results if not r.get("success")]
    if not failed:
        return f"passed ({len(results)} checks)"
    return "FAILED: " + "; ".join(
        f"{r['expectation']} on {r.get('column') or 'table'} ({r.get('unexpected_count')} rows)"
        for r in failed)


@click.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--new-version", "dataset_id", metavar="DATASET",
              help="Publish FILE as the next version of this dataset of your department "
                   "(its metadata stays; --title, --sharing and --level are not given).")
@click.option("--title")
@click.option("--sharing", type=click.Choice(["unconditional", "conditional", "none"]))
@click.option("--level", type=click.Choice(["L1", "L2", "L3", "L4"]))
@click.option("--description", default="")
@click.option("--legal-basis", help="Required when --sharing none.")
@click.option("--strict", is_flag=True, help="Refuse the file if a quality check fails.")
@click.option("--confirm-personal-data", "confirm", is_flag=True,
              help="At L1 or L2: confirm the level although personal data was found.")
@click.option("--public-column", "public_columns", multiple=True, metavar="COLUMN",
              help="A column public by law (依法公示, e.g. a company's 统一社会信用代码): "
                   "delivered as it is by default at every level. Repeat for more.")
@click.option("--region-column", metavar="COLUMN",
              help="The column of GB/T 2260 region codes (default: the one found), by which "
                   "a district's request is proposed its own rows.")
@pass_ctx
def publish(ctx: Context, file: Path, dataset_id: str | None, title: str | None,
            sharing: str | None, level: str | None, description: str,
            legal_basis: str | None, strict: bool, confirm: bool,
            public_columns: tuple[str, ...], region_column: str | None) -> None:
    """Publish FILE (CSV, XLSX, Parquet, JSON Lines) as a dataset of your department
    (--title, --sharing and --level), or as a new version of one (--new-version DATASET)."""
    described = {"--title": title, "--sharing": sharing, "--level": level,
                 "--description": description or None, "--legal-basis": legal_basis,
                 "--public-column": public_columns or None}
    if dataset_id:
        given = [name for name, value in described.items() if value]
        if given:
            raise click.UsageError(f"{', '.join(given)}: a new version keeps the dataset's "
                                   f"metadata (change it with govex edit)")
        options = {"strict": strict, "confirm_personal_data": confirm,
                   "region_column": region_column}
        d = ctx.client().publish(file.name, file, {k: v for k, v in options.items()
                                                   if v is not None},
                                 new_version_of=dataset_id)
        ctx.emit(d, f"published {d['id']} version {d['version']} ({d['row_count']} rows, "
                    f"quality {'passed' if d['quality_passed'] else 'FAILED'})")
        return
    missing = [name for name in ("--title", "--sharing", "--level") if not described[name]]
    if missing:
        raise click.UsageError(f"a new dataset needs {', '.join(missing)}")
    meta = {"title": title, "sharing": sharing, "level": level, "description": description,
            "legal_basis": legal_basis, "strict": strict, "confirm_personal_data": confirm}
    if region_column:
        meta["region_column"] = region_column
    if public_columns:
        meta["public_columns"] = list(public_columns)
    d = ctx.client().publish(file.name, file, meta)
    region = next((c["name"] for c in d.get("columns", []) if c.get("region")), None)
    ctx.emit(d, f"published {d['id']} ({d['row_count']} rows, quality "
                f"{'passed' if d['quality_passed'] else 'FAILED — see govex dataset'}"
                f"{f'; region column {region}' if region else ''})")


@click.command()
@click.argument("dataset_id")
@click.option("--title")
@click.option("--description")
@click.option("--sharing", type=click.Choice(["unconditional", "conditional", "none"]))
@click.option("--level", type=click.Choice(["L1", "L2", "L3", "L4"]))
@click.option("--legal-basis")
@click.option("--keywords")
@pass_ctx
def edit(ctx: Context, dataset_id: str, **given: str | None) -> None:
    """Edit the metadata of DATASET, a dataset of your department (stewards)."""
    changes = {name: value for name, value in given.items() if value is not None}
    if not changes:
        raise click.UsageError("say what to change (--title, --description, --sharing, "
                               "--level, --legal-basis, --keywords)")
    d = ctx.client().edit_dataset(dataset_id, **changes)
    ctx.emit(d, f"{d['id']}: changed {', '.join(d['changed']) or 'nothing'}")


@click.command()
@click.argument("dataset_id")
@click.option("--reason", required=True, help="Why: the receiving departments read it.")
@pass_ctx
def withdraw(ctx: Context, dataset_id: str, reason: str) -> None:
    """Withdraw DATASET from the catalog (stewards): its grants end, pending requests are
    refused, its history stays."""
    d = ctx.client().withdraw(dataset_id, reason=reason)
    ended = d["grants_ended"]
    ctx.emit(d, f"withdrew {d['id']}; {len(ended)} grant(s) ended"
                + (f": {', '.join(ended)}" if ended else ""))


@click.command("request")
@click.argument("dataset_id")
@click.option("--purpose", required=True, help="Why you need it (purpose limitation).")
@click.option("--columns", required=True, help="Comma-separated column names.")
@click.option("--lookup-by", "key_columns", metavar="COLUMNS",
              help="Ask for lookups by these key columns (接口共享: one record per call, "
                   "e.g. 身份证号) instead of the table.")
@pass_ctx
def request_(ctx: Context, dataset_id: str, purpose: str, columns: str,
             key_columns: str | None) -> None:
    """Ask for a dataset. Prints the request's id and status (pending, or granted at once for
    unconditional data). Exits with status 3 when it is refused at once (not-shareable data),
    after printing the legal basis."""
    cols = [c.strip() for c in columns.split(",") if c.strip()]
    keys = [c.strip() for c in key_columns.split(",") if c.strip()] if key_columns else None
    r = ctx.client().request(dataset_id, purpose=purpose, columns=cols, key_columns=keys)
    extra = f" grant {r['grant_id']}" if r.get("grant_id") else ""
    extra += f" — {r['reason']}" if r.get("reason") else ""
    ctx.emit(r, f"{r['id']} {r['status']}{extra}")
    if r["status"] == "refused":
        raise SystemExit(REFUSED_EXIT)


@click.command()
@click.option("--status", type=click.Choice(["pending", "granted", "denied", "refused",
                                            "withdrawn", "appealed"]))
@_IDS
@pass_ctx
def requests(ctx: Context, status: str | None, ids: bool) -> None:
    """Requests of your department, or for its datasets (stewards)."""
    found = ctx.client().requests(status)
    if ids:
        return _print_ids(found)
    lines = [f"{r['id']}  {r['status']:<8} {r['receiver']}→{r['provider']}  {r['dataset_id']}  "
             f"[{','.join(r['columns'])}]  {r['purpose']}" + "".join(
                 f"\n    proposed: --rows {column}={','.join(values)}"
                 for column, values in (r.get("proposed_rows") or {}).items()) for r in found]
    ctx.emit({"requests": found}, "\n".join(lines) or "no requests")


@click.command()
@click.argument("request_id")
@click.option("--mask", "masks", multiple=True, metavar="COLUMN=OPERATOR",
              help="Operator for a column (keep, mask, redact, hash, generalize, drop, scrub).")
@click.option("--columns", help="Approve only these columns (comma-separated).")
@click.option("--expires-in-days", type=click.IntRange(1, 365), metavar="1-365",
              help="Days the grant stays active (default 90).")
@click.option("--follows", type=click.Choice(["latest", "pinned"]),
              help="latest (default): deliveries read the newest version the grant still "
                   "fits; pinned: always the version requested.")
@click.option("--rows", "row_scopes", multiple=True, metavar="COLUMN=V1,V2",
              help="Deliver only the rows whose COLUMN holds one of these values (e.g. "
                   "区划代码=510104); repeat for more columns (each must match).")
@pass_ctx
def approve(ctx: Context, request_id: str, masks: tuple[str, ...], columns: str | None,
            expires_in_days: int | None, follows: str | None,
            row_scopes: tuple[str, ...]) -> None:
    """Approve a request with conditions (stewards)."""
    rows: dict[str, list[str]] = {}
    for item in row_scopes:
        column, sep, values = item.partition("=")
        chosen = [v.strip() for v in values.split(",") if v.strip()]
        if not sep or not column.strip() or not chosen:
            raise click.BadParameter(f"{item!r}: use COLUMN=VALUE1,VALUE2",
                                     param_hint="--rows")
        rows.setdefault(column.strip(), []).extend(chosen)
    masking = _masking(masks)
    cols = [c.strip() for c in columns.split(",")] if columns else None
    r = ctx.client().approve(request_id, masking=masking or None, columns=cols,
                             expires_in_days=expires_in_days, follows=follows,
                             rows=rows or None)
    scope = "; rows " + "; ".join(f"{c} in {','.join(v)}" for c, v in rows.items()) \
        if rows else ""
    human = (f"granted {r['grant_id']} until {r['grant']['expires_at']}{scope}"
             if r["grant_id"] else "approval recorded; a second steward must confirm (L4)")
    ctx.emit(r, human)


@click.command("request-withdraw")
@click.argument("request_id")
@click.option("--reason", help="Why (shown to the steward; not kept in the audit log).")
@pass_ctx
def request_withdraw(ctx: Context, request_id: str, reason: str | None) -> None:
    """Withdraw a pending request of your department (requesters)."""
    r = ctx.client().withdraw_request(request_id, reason=reason)
    ctx.emit(r, f"{r['id']} withdrawn")


@click.command("request-show")
@click.argument("request_id")
@pass_ctx
def request_show(ctx: Context, request_id: str) -> None:
    """One request: its status, due time and timeline (办件进度)."""
    r = ctx.client().get_request(request_id)
    waiting = r["status"] in ("pending", "appealed") and r.get("due_at")
    lines = [f"{r['id']} {r['status']}" + (f", due {r['due_at']}" if waiting else "")
             + (" (overdue)" if r.get("overdue") else "")]
    for e in r["events"]:
        detail = "; ".join(f"{k}: {v}" for k, v in e["detail"].items() if k != "columns")
        lines.append(f"  {e['at']}  {e['type']:<16} {e['actor'] or ''}"
                     + (f"  {detail}" if detail else ""))
    ctx.emit(r, "\n".join(lines))


@click.command()
@click.argument("request_id")
@click.option("--reason", required=True, help="Why your department still needs the data.")
@pass_ctx
def appeal(ctx: Context, request_id: str, reason: str) -> None:
    """Appeal the refusal of your department's request to the data authority (requesters)."""
    r = ctx.client().appeal(request_id, reason=reason)
    ctx.emit(r, f"{r['id']} appealed; the data authority decides by {r['appeal']['due_at']}")


@click.command("appeal-decide")
@click.argument("request_id")
@click.option("--uphold", "outcome", flag_value="upheld", help="The refusal stands.")
@click.option("--return", "outcome", flag_value="returned",
              help="Return the request to its provider (with --instruction).")
@click.option("--instruction", help="What the providing department must do.")
@pass_ctx
def appeal_decide(ctx: Context, request_id: str, outcome: str | None,
                  instruction: str | None) -> None:
    """Decide an appeal (data authority): --uphold, or --return with an --instruction."""
    if outcome is None:
        raise click.UsageError("choose --uphold or --return")
    r = ctx.client().decide_appeal(request_id, outcome=outcome, instruction=instruction)
    ctx.emit(r, f"{r['id']} {r['status']}" + (f", due {r['due_at']}" if outcome == "returned"
                                               else ""))


@click.command()
@click.option("--unread", is_flag=True, help="Only those not read yet.")
@click.option("--read-all", is_flag=True, help="Then mark every notice read.")
@pass_ctx
def notifications(ctx: Context, unread: bool, read_all: bool) -> None:
    """Your notices, newest first, with the unread count."""
    client = ctx.client()
    found = client.notifications(unread_only=unread)
    lines = [f"{found['unread']} unread"] + [
        f"{'  ' if n['read'] else '* '}{n['at']}  {n['title_en']}  {n['subject_id'] or ''}"
        for n in found["notifications"]]
    if read_all:
        found["marked"] = client.read_notifications()["marked"]
    ctx.emit(found, "\n".join(lines))


@click.command()
@click.argument("request_id")
@click.option("--reason", required=True)
@pass_ctx
def deny(ctx: Context, request_id: str, reason: str) -> None:
    """Refuse a request, with a reason (stewards)."""
    r = ctx.client().deny(request_id, reason=reason)
    ctx.emit(r, f"{r['id']} denied")


NO_MATCH_EXIT = 4


def _pairs(items: tuple[str, ...], hint: str) -> dict[str, str]:
    found: dict[str, str] = {}
    for item in items:
        column, sep, value = item.partition("=")
        if not sep or not column.strip():
            raise click.BadParameter(f"{item!r}: use COLUMN=VALUE", param_hint=hint)
        found[column.strip()] = value
    return found


@click.command()
@click.argument("grant_id")
@click.argument("key", metavar="COLUMN=VALUE")
@pass_ctx
def lookup(ctx: Context, grant_id: str, key: str) -> None:
    """Look one record up under a query grant (接口共享): the rows, masked as granted. The
    call is logged (the key only as a keyed pseudonym) and its receipt signed."""
    r = ctx.client().lookup(grant_id, _pairs((key,), "COLUMN=VALUE"))
    lines = [json.dumps(row, ensure_ascii=False) for row in r["rows"]] or ["not found"]
    lines.append(f"audit entry #{r['audit_index']}")
    ctx.emit(r, "\n".join(lines))


@click.command()
@click.argument("grant_id")
@click.argument("claims", nargs=-1, required=True, metavar="COLUMN=VALUE...")
@pass_ctx
def check(ctx: Context, grant_id: str, claims: tuple[str, ...]) -> None:
    """Check claims against a record under a query grant (核验): match or no match, nothing
    else. Exits 4 on no match (a script can tell it from an error, 1)."""
    r = ctx.client().verify_claims(grant_id, _pairs(claims, "COLUMN=VALUE"))
    ctx.emit(r, f"{'match' if r['match'] else 'no match'} (audit entry #{r['audit_index']})")
    if not r["match"]:
        raise SystemExit(NO_MATCH_EXIT)


@click.command()
@_IDS
@pass_ctx
def exchanges(ctx: Context, ids: bool) -> None:
    """Deliveries your department received (requesters) or provided (stewards)."""
    found = ctx.client().exchanges()
    if ids:
        return _print_ids(found)
    lines = [f"{e['id']}  {e['created_at']}  {e['provider']}→{e['receiver']}  "
             f"{e['dataset_id']} v{e['dataset_version']}  {e['row_count']} rows  {e['format']}"
             for e in found]
    ctx.emit({"exchanges": found}, "\n".join(lines) or "no deliveries")


@click.command()
@click.argument("exchange_id")
@click.argument("rating", type=click.IntRange(1, 5))
@click.option("--comment", help="What went well or not (personal data is removed before it "
                                "is stored).")
@pass_ctx
def rate(ctx: Context, exchange_id: str, rating: int, comment: str | None) -> None:
    """Rate a delivery your department received, 1 (very poor) to 5 (very good): 好差评."""
    r = ctx.client().rate(exchange_id, rating=rating, comment=comment)
    ctx.emit(r, f"rated {exchange_id}: {r['rating']} of 5")


def _row_numbers(text: str) -> list[int]:
    found: list[int] = []
    for part in text.replace("，", ",").split(","):
        first, dash, last = part.strip().partition("-")
        if not first.strip().isdigit() or (dash and not last.strip().isdigit()):
            raise click.BadParameter(f"{part.strip()!r}: use row numbers like 3,7-9",
                                     param_hint="--rows")
        found.extend(range(int(first), int(last if dash else first) + 1))
    return found


@click.command("object")
@click.argument("exchange_id")
@click.option("--columns", required=True, help="The columns with errors (comma-separated).")
@click.option("--rows", required=True, help="Row numbers of the delivered file, from 1: 3,7-9.")
@click.option("--description", required=True,
              help="What is wrong (personal data is removed before it is stored).")
@pass_ctx
def object_to(ctx: Context, exchange_id: str, columns: str, rows: str,
              description: str) -> None:
    """Report errors in a delivery your department received (校核纠错); the provider answers
    by its due time."""
    cols = [c.strip() for c in columns.split(",") if c.strip()]
    r = ctx.client().object_to(exchange_id, columns=cols, rows=_row_numbers(rows),
                               description=description)
    ctx.emit(r, f"{r['id']} open; answer due {r['due_at']}")


@click.command()
@click.option("--state", type=click.Choice(["open", "fixed", "explained"]))
@_IDS
@pass_ctx
def objections(ctx: Context, state: str | None, ids: bool) -> None:
    """Error reports your department filed (requesters), about its data (stewards), or in
    your region (data authority)."""
    found = ctx.client().objections(state=state)
    if ids:
        return _print_ids(found)
    lines = [f"{o['id']}  {o['status']:<9} {o['receiver']}→{o['provider']}  {o['dataset_id']}  "
             f"[{','.join(o['columns'])}] rows {','.join(map(str, o['rows']))}  "
             f"due {o['due_at']}" + ("  OVERDUE" if o["overdue"] else "")
             + (f"\n    {o['description']}" if o.get("description") else "")
             for o in found]
    ctx.emit({"objections": found}, "\n".join(lines) or "no error reports")


@click.command()
@click.argument("objection_id")
@click.option("--fixed", "version", type=int, metavar="VERSION",
              help="Fixed in this new version of the dataset.")
@click.option("--explained", "explanation", metavar="TEXT", help="The data is right: why.")
@pass_ctx
def answer(ctx: Context, objection_id: str, version: int | None,
           explanation: str | None) -> None:
    """Answer an error report about your department's data (stewards): --fixed VERSION or
    --explained TEXT."""
    if (version is None) == (explanation is None):
        raise click.UsageError("choose --fixed VERSION or --explained TEXT")
    r = ctx.client().answer_objection(objection_id,
                                      outcome="fixed" if version is not None else "explained",
                                      explanation=explanation, version=version)
    ctx.emit(r, f"{r['id']} {r['status']}")


@click.command()
@click.option("--from", "start", metavar="YYYY-MM-DD", help="First day (default: a year ago).")
@click.option("--to", "end", metavar="YYYY-MM-DD", help="Last day (default: today).")
@click.option("--period", type=click.Choice(["month", "quarter", "year"]), default="month",
              show_default=True)
@click.option("--csv", "as_csv", is_flag=True, help="Print CSV (for a spreadsheet).")
@pass_ctx
def metrics(ctx: Context, start: str | None, end: str | None, period: str,
            as_csv: bool) -> None:
    """How each department serves, per period (data authority, auditors): requests, replies
    on time, median reply in working hours, approvals, appeals, ratings, error reports."""
    params = {"from": start or "", "to": end or "", "period": period}
    if as_csv:
        click.echo(ctx.client().metrics_csv(**params).decode("utf-8-sig"), nl=False)
        return
    found = ctx.client().metrics(**params)
    lines = [f"{'department':<16} {'period':<8} {'recv':>4} {'on time':>8} {'median h':>8} "
             f"{'approved':>8} {'appeals':>7} {'rating':>6} {'errors':>6}"]
    for r in found["metrics"]:
        approved = "-" if r["approval_rate"] is None else f"{round(100 * r['approval_rate'])}%"
        lines.append(f"{r['department']:<16} {r['period']:<8} {r['requests_received']:>4} "
                     f"{r['replied_on_time']:>3}/{r['replied']:<4} "
                     f"{'-' if r['median_reply_hours'] is None else r['median_reply_hours']:>8} "
                     f"{approved:>8} {r['appeals']:>7} "
                     f"{'-' if r['rating_mean'] is None else r['rating_mean']:>6} "
                     f"{r['objections_on_time']:>2}/{r['objections']:<3}")
    ctx.emit(found, "\n".join(lines))


@click.command()
@_IDS
@pass_ctx
def grants(ctx: Context, ids: bool) -> None:
    """Grants your department received, or gave (stewards)."""
    found = ctx.client().grants()
    if ids:
        return _print_ids(found)
    lines = [f"{g['id']}  {g['status']:<8} {g['provider']}→{g['receiver']}  {g['dataset_id']}  "
             f"until {g['expires_at'][:10]}  "
             + ", ".join(f"{c}:{op}" for c, op in g["masking"].items()) for g in found]
    ctx.emit({"grants": found}, "\n".join(lines) or "no grants")


@click.command()
@click.argument("grant_id")
@click.option("--reason")
@pass_ctx
def revoke(ctx: Context, grant_id: str, reason: str | None) -> None:
    """Revoke a grant (stewards)."""
    g = ctx.client().revoke(grant_id, reason=reason)
    ctx.emit(g, f"{g['id']} revoked")


@click.command()
@click.argument("grant_id")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--format", "fmt", default="csv",
              type=click.Choice(["csv", "xlsx", "jsonl", "parquet"]))
@click.option("--bom", is_flag=True, help="CSV: start with a byte-order mark (Excel on Windows).")
@pass_ctx
def pull(ctx: Context, grant_id: str, output: Path, fmt: str, bom: bool) -> None:
    """Receive the masked dataset of GRANT_ID into OUTPUT, with OUTPUT.receipt.jws and
    OUTPUT.evidence.json (its audit entry, inclusion proof and signed checkpoint), verified."""
    import base64

    from audit import NoteVerifier, verify_entry

    from ..receipts import verify_receipt
    folder = output.parent.resolve()
    if not folder.is_dir() or not os.access(folder, os.W_OK | os.X_OK):
        # before asking: every delivery is logged, and one whose file cannot be saved is waste
        raise click.ClickException(f"cannot write {output}: {folder} is not a writable folder")
    client = ctx.client()
    exchange = client.deliver(grant_id, fmt=fmt, bom=bom)
    data = client.download(exchange["data_url"])
    manifest = verify_receipt(exchange["receipt"], jwks=client.jwks(), data=data)
    key = client.audit_key()
    entry, proof, index = exchange["audit_entry"], exchange["inclusion_proof"], \
        exchange["audit_index"]
    signed = verify_entry(entry, index=index, checkpoint=exchange["checkpoint"],
                          proof=[base64.b64decode(h) for h in proof["hashes"]],
                          verifier=NoteVerifier.from_vkey(key["vkey"]), origin=key["origin"])
    differ = [k for k in ("exchange_id", "grant_id", "sha256", "row_count")
              if entry.get(k) != manifest.get(k)] + ([] if manifest["audit_index"] == index
                                                     else ["audit_index"])
    if differ:
        raise click.ClickException(f"the audit entry does not match the receipt: "
                                   f"{', '.join(differ)} differ")
    receipt_path = output.with_name(output.name + ".receipt.jws")
    evidence_path = output.with_name(output.name + ".evidence.json")
    output.write_bytes(data)
    receipt_path.write_text(exchange["receipt"] + "\n")
    evidence_path.write_text(json.dumps({
        "format": "govex-delivery-evidence/1", "origin": key["origin"], "vkey": key["vkey"],
        "audit_index": index, "entry": entry, "inclusion_proof": proof["hashes"],
        "tree_size": signed.size, "checkpoint": exchange["checkpoint"]},
        ensure_ascii=False, indent=1) + "\n")
    ctx.emit(exchange | {"file": str(output), "receipt_file": str(receipt_path),
                         "evidence_file": str(evidence_path)},
             f"wrote {output} ({manifest['row_count']} rows{_scope(manifest.get('rows'))}, "
             f"sha256 {manifest['sha256'][:16]}…)"
             f"\nwrote {receipt_path} (signature verified)"
             f"\nwrote {evidence_path} (audit entry #{index}, proven included in the signed "
             f"checkpoint of {signed.size} entries)")


@click.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--receipt", "receipt", required=True,
              type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--jwks", "jwks_source", help="JWKS file or URL (default: the server's).")
@pass_ctx
def verify(ctx: Context, file: Path, receipt: Path, jwks_source: str | None) -> None:
    """Verify that FILE is what the exchange signed in RECEIPT (offline with a JWKS file)."""
    from ..receipts import verify_receipt
    if jwks_source and not jwks_source.startswith(("http://", "https://")):
        jwks = _json_file(Path(jwks_source), "a JWKS (JSON) file")
    elif jwks_source:
        import requests as http
        jwks = http.get(jwks_source, timeout=30).json()
    else:
        jwks = ctx.client().jwks()
    try:
        compact = receipt.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise click.ClickException(f"{receipt} is not a receipt (a .receipt.jws text file)"
                                   ) from None
    manifest = verify_receipt(compact, jwks=jwks, data=file.read_bytes())
    ctx.emit(manifest, f"OK: {file} matches the receipt signed by the exchange "
                       f"(exchange {manifest['exchange_id']}, {manifest['row_count']} rows, "
                       f"{manifest['provider']}→{manifest['receiver']}, "
                       f"audit entry #{manifest['audit_index']})")


@click.group()
def flowback() -> None:
    """回流: a dataset of your department flowing back to the districts under it (stewards)."""


@flowback.command("start")
@click.argument("dataset_id")
@click.option("--purpose", required=True)
@click.option("--legal-basis", required=True, help="The law or rule the flow rests on.")
@click.option("--columns", help="Only these columns (comma-separated; default all).")
@click.option("--mask", "masks", multiple=True, metavar="COLUMN=OPERATOR")
@click.option("--review-in-days", type=click.IntRange(1, 365), metavar="1-365",
              help="Days until the decision is reviewed; its grants end then (default 90).")
@pass_ctx
def flowback_start(ctx: Context, dataset_id: str, purpose: str, legal_basis: str,
                   columns: str | None, masks: tuple[str, ...],
                   review_in_days: int | None) -> None:
    """Every district under your department receives its own region's rows of DATASET."""
    masking = _masking(masks)
    r = ctx.client().flow_back(
        dataset_id, purpose=purpose, legal_basis=legal_basis, masking=masking or None,
        columns=[c.strip() for c in columns.split(",")] if columns else None,
        review_in_days=review_in_days)
    decision = r["flowback"]
    lines = [f"{decision['id']} {decision['status']} until {decision['review_at'][:10]}"]
    lines += [f"granted {g['id']} to {g['receiver']}{_scope(g.get('rows'))}"
              for g in r["grants"]]
    if decision["status"] == "pending":
        lines.append("a second steward confirms it (L4): govex flowback confirm "
                     + decision["id"])
    ctx.emit(r, "\n".join(lines))


@flowback.command("list")
@pass_ctx
def flowback_list(ctx: Context) -> None:
    """The 回流 decisions of your department."""
    found = ctx.client().flowbacks()
    ctx.emit({"flowbacks": found}, "\n".join(
        f"{f['id']}  {f['status']:<8} {f['dataset_id']}  until {f['review_at'][:10]}  "
        f"{f['purpose']}" for f in found) or "no 回流 decisions")


@flowback.command("confirm")
@click.argument("flowback_id")
@pass_ctx
def flowback_confirm(ctx: Context, flowback_id: str) -> None:
    """Confirm an L4 decision as its second steward: the districts' grants are issued."""
    r = ctx.client().flowback_confirm(flowback_id)
    ctx.emit(r, "\n".join(f"granted {g['id']} to {g['receiver']}{_scope(g.get('rows'))}"
                          for g in r["grants"]) or "confirmed; no district to grant")


@flowback.command("end")
@click.argument("flowback_id")
@click.option("--reason", required=True)
@pass_ctx
def flowback_end(ctx: Context, flowback_id: str, reason: str) -> None:
    """End a decision: every district grant derived from it ends."""
    r = ctx.client().flowback_end(flowback_id, reason=reason)
    ctx.emit(r, f"ended {flowback_id} and {len(r['grants_ended'])} grant(s)")


def _masking(masks: tuple[str, ...]) -> dict[str, str]:
    """``--mask COLUMN=OPERATOR`` options as ``{column: operator}``."""
    masking = {}
    for item in masks:
        column, sep, op = item.partition("=")
        if not sep or not column or not op:
            raise click.BadParameter(f"{item!r}: use COLUMN=OPERATOR", param_hint="--mask")
        masking[column.strip()] = op.strip()
    return masking


def _scope(rows: dict | None) -> str:
    """A grant's row scope in words (``; rows: 区划代码 in 510104``), or nothing."""
    return "".join(f"; {column} in {','.join(values)}" for column, values in (rows or {}).items())


@click.group()
def catalog() -> None:
    """The whole catalog, for other catalogs (metadata only)."""


@catalog.command("export")
@click.option("--format", "fmt", default="jsonld", show_default=True,
              type=click.Choice(["jsonld", "directory-json", "directory-xlsx"]),
              help="jsonld: DCAT-AP 3.0.1 JSON-LD; directory-json, directory-xlsx: the "
                   "national directory's structure (政务信息资源目录编制指南).")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False, path_type=Path))
@pass_ctx
def catalog_export(ctx: Context, fmt: str, output: Path) -> None:
    """Write the catalog (every dataset not withdrawn; no data) to OUTPUT."""
    folder = output.parent.resolve()
    if not folder.is_dir() or not os.access(folder, os.W_OK | os.X_OK):
        raise click.ClickException(f"cannot write {output}: {folder} is not a writable folder")
    size = ctx.client().catalog_export(fmt, output)
    ctx.emit({"file": str(output), "format": fmt, "bytes": size},
             f"wrote {output} ({fmt}, {size} bytes)")


def _json_file(path: Path, what: str) -> Any:
    """The JSON in ``path``; a ClickException naming ``what`` it should be otherwise."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise click.ClickException(f"{path} is not {what}") from None


#: The commands this module adds to ``govex`` (see :mod:`exchange.cli`).
COMMANDS: tuple[click.Command, ...] = (datasets, dataset, publish, edit, withdraw, request_,
                                       requests, approve, deny, grants, revoke, pull, verify,
                                       catalog, flowback, request_withdraw, request_show,
                                       appeal, appeal_decide, notifications, exchanges, rate,
                                       object_to, objections, answer, metrics, lookup, check)
