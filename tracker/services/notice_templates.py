"""The notice letter's wording (お知らせ文面, issue 15): versions records officers edit.

The newest :class:`NoticeTemplate` version is used; older versions stay for the batches that
printed them. The body is a Jinja template rendered in :class:`SandboxedEnvironment` (plain
text, no autoescape, :class:`StrictUndefined`) with exactly the fields of :data:`FIELDS`: a
template naming anything else, with a syntax error, or reaching for attributes the sandbox
forbids (``__class__`` …) is refused on save with the line number. Templates hold no personal
data, so the audit event of a change carries the version and its lengths only.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import jinja2
from jinja2 import StrictUndefined, meta
from jinja2.exceptions import SecurityError
from jinja2.sandbox import SandboxedEnvironment
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tracker.domain.codes import AuditAction, ObjectType
from tracker.domain.errors import InputError
from tracker.domain.records import check_free_text
from tracker.models import NoticeTemplate
from tracker.services import audit

#: The fields a letter template may use, with what they hold (shown in the editor).
FIELDS: dict[str, str] = {
    "name": "宛名（通知カードの名義人の氏名）",
    "address": "住所",
    "control_no": "管理番号",
    "item_kind": "通知物の種類（通知カード など）",
    "last_day": "受け取りの最終日（和暦）",
    "place": "受け取りの場所（通知物を保管している保管場所の名称）",
    "hours": "受付時間（設定の窓口時間）",
    "documents": "本人確認書類（現在の本人確認基準の書類名を、選べる組合せごとに文章で）",
    "office": "差出人（自治体名と事務所名）",
    "contact": "問い合わせ先（設定）",
    "sent_on": "発送日（和暦）",
    "batch_no": "発送番号",
}

DEFAULT_TITLE = "通知カードの受け取りについて（お知らせ）"
DEFAULT_BODY = """\
拝啓　時下ますますご清祥のこととお喜び申し上げます。
さて、あなたあての{{ item_kind }}を簡易書留でお送りしましたが、お届けできずに返戻され、
現在当センターで保管しております。
つきましては、{{ last_day }}までに、下記によりお受け取りください。
この日までにお受け取りがない場合は、保管期間の経過により廃棄させていただきますので、ご了承ください。

記

１　受け取り場所　{{ place }}
２　受付時間　　　{{ hours }}
３　お持ちいただくもの
　　・このお知らせ
　　・本人確認書類（{{ documents }}）
　　※代理の方が受け取る場合は、委任状と代理の方の本人確認書類が必要です。
４　受け取り期限　{{ last_day }}

個人情報保護により、通知カードの返戻状況を電話で回答することはできません。
ご不明な点は、下記までお問い合わせください。

問い合わせ先　{{ contact }}
"""

#: Longest title and body a records officer may save.
TITLE_LIMIT = 200
BODY_LIMIT = 10_000


class TemplateError(InputError):
    """A template that cannot be saved or rendered; the message says where and why."""


#: The longest string (or list) one expression of a template may make, and the longest
#: rendered letter: a letter is a page, so anything near these is a mistake or an attack.
VALUE_LIMIT = 10_000
RENDERED_LIMIT = 20_000
#: ``**`` with a larger exponent is refused (2 ** 64 is already more than a letter needs).
POWER_LIMIT = 64
#: str methods that pad or format to a width the template chooses: refused outright.
_WIDENING = frozenset({"center", "ljust", "rjust", "zfill", "expandtabs", "format", "format_map"})


def _too_long(what: str) -> SecurityError:
    return SecurityError(f"{what}が長すぎます（{VALUE_LIMIT:,}文字まで）")


class LetterEnvironment(SandboxedEnvironment):
    """The sandbox, which limits attribute access but not size, made to refuse what would
    exhaust memory: a string or list multiplied past :data:`VALUE_LIMIT`, a large power,
    padding filters and methods with a large width, ``lipsum``."""

    intercepted_binops = frozenset({"*", "**"})

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.globals = {"range": self.globals["range"]}
        for name in ("center", "indent", "format", "wordwrap"):
            self.filters[name] = _capped(self.filters[name], name)

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        if operator == "**":
            if not isinstance(right, int | float) or abs(right) > POWER_LIMIT:
                raise SecurityError(f"べき乗（**）の指数は{POWER_LIMIT}までです")
            if isinstance(left, int) and abs(left) > 2**POWER_LIMIT:
                raise SecurityError("べき乗（**）の値が大きすぎます")
        if operator == "*":
            for seq, times in ((left, right), (right, left)):
                if (
                    isinstance(seq, str | list | tuple | bytes)
                    and isinstance(times, int)
                    and len(seq) * max(times, 0) > VALUE_LIMIT
                ):
                    raise _too_long("掛け算（*）で作る文字列")
        return super().call_binop(context, operator, left, right)

    def call(__self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        if isinstance(getattr(__obj, "__self__", None), str) and __obj.__name__ in _WIDENING:
            raise SecurityError(f"文字列の {__obj.__name__} は使えません")
        return super().call(__context, __obj, *args, **kwargs)


def _capped(original: Any, name: str) -> Any:
    def capped(*args: Any, **kwargs: Any) -> Any:
        for value in (*args[1:], *kwargs.values()):
            if isinstance(value, int) and value > 200:
                raise SecurityError(f"フィルター {name} の幅は200までです")
        result = original(*args, **kwargs)
        if isinstance(result, str) and len(result) > VALUE_LIMIT:
            raise _too_long(f"フィルター {name} の結果")
        return result

    for attribute in ("jinja_pass_arg",):
        if hasattr(original, attribute):
            setattr(capped, attribute, getattr(original, attribute))
    return capped


def environment() -> SandboxedEnvironment:
    """Plain text (a letter, not HTML), strict about undefined names, sandboxed and limited
    in size (:class:`LetterEnvironment`)."""
    return LetterEnvironment(
        autoescape=False, undefined=StrictUndefined, keep_trailing_newline=True
    )


@dataclass(frozen=True)
class LetterFields:
    """The values one letter is rendered with (every key of :data:`FIELDS`)."""

    name: str
    address: str
    control_no: str
    item_kind: str
    last_day: str
    place: str
    hours: str
    documents: str
    office: str
    contact: str
    sent_on: str
    batch_no: str

    def as_dict(self) -> dict[str, str]:
        return {key: getattr(self, key) for key in FIELDS}


def sample_fields(
    *, contact: str, place: str, hours: str, documents: str, office: str
) -> LetterFields:
    """A synthetic person for the editor's preview: never real data."""
    return LetterFields(
        name="見本 花子",
        address="〒860-0000 熊本県熊本市中央区見本町1-2-3",
        control_no="E000000000-1",
        item_kind="通知カード",
        last_day="令和9年3月31日",
        place=place,
        hours=hours,
        documents=documents,
        office=office,
        contact=contact,
        sent_on="令和8年12月1日",
        batch_no="N000000000",
    )


def _line_of(error: Exception) -> str:
    line = getattr(error, "lineno", None)
    return f"{line}行目: " if line else ""


def compile_body(body: str) -> jinja2.Template:
    """The body compiled, or :class:`TemplateError` (syntax, unknown field) with the line."""
    env = environment()
    try:
        tree = env.parse(body)
    except jinja2.TemplateSyntaxError as error:
        raise TemplateError(f"文面 {_line_of(error)}書式の誤りです（{error.message}）") from None
    unknown = sorted(meta.find_undeclared_variables(tree) - set(FIELDS))
    if unknown:
        name = unknown[0]
        line = next((n for n, text in enumerate(body.splitlines(), start=1) if name in text), None)
        where = f"{line}行目: " if line else ""
        raise TemplateError(
            f"文面 {where}「{name}」は使えない項目です（使える項目: {'、'.join(FIELDS)}）"
        )
    return env.from_string(body)


def render_body(template: jinja2.Template | str, fields: LetterFields) -> str:
    """The body for one letter; :class:`TemplateError` when the template fails (sandbox)."""
    compiled = compile_body(template) if isinstance(template, str) else template
    try:
        length = 0
        parts = []
        for part in compiled.generate(fields.as_dict()):
            length += len(part)
            if length > RENDERED_LIMIT:
                raise TemplateError(
                    f"差し込んだ文面が長すぎます（{RENDERED_LIMIT:,}文字まで）。"
                    "繰り返し（for）や掛け算を見直してください"
                )
            parts.append(part)
        return "".join(parts)
    except TemplateError:
        raise
    except SecurityError as error:
        raise TemplateError(
            f"文面 {_line_of(error)}安全でない操作は使えません（{error}）"
        ) from None
    except jinja2.TemplateError as error:
        raise TemplateError(f"文面 {_line_of(error)}差し込みできません（{error}）") from None
    except Exception as error:  # noqa: BLE001 (an expression may raise anything: 1/0 …)
        raise TemplateError(f"文面を差し込みできません（{type(error).__name__}）") from None


def check(title: str | None, body: str | None, sample: LetterFields) -> tuple[str, str]:
    """The title and body as stored, after a trial render with ``sample`` (the sandbox's
    refusals show only when rendering), or :class:`TemplateError`."""
    try:
        title_text = check_free_text(title, "label", required=True, label="表題")
    except InputError as error:
        raise TemplateError(str(error)) from None
    body_text = (body or "").replace("\r\n", "\n")
    if not body_text.strip():
        raise TemplateError("文面を入力してください")
    if len(body_text) > BODY_LIMIT:
        raise TemplateError(f"文面は{BODY_LIMIT}文字以内にしてください（{len(body_text)}文字）")
    if any(ord(c) < 32 and c not in "\n\t" for c in body_text):
        raise TemplateError("文面に制御文字が含まれています")
    rendered = render_body(compile_body(body_text), sample)
    _check_fits(title_text, rendered, sample)
    return title_text, body_text


def _check_fits(title: str, rendered: str, sample: LetterFields) -> None:
    """Refuse a wording whose sample letter runs past its page (the printer never cuts)."""
    from tracker.pdf.notices import LetterPage, lines_over

    page = LetterPage(sample.name, sample.address, sample.control_no, title, rendered)
    over = lines_over(page, sent_on=date(2026, 12, 1), sender=sample.office)
    if over:
        raise TemplateError(
            f"文面が長すぎて1ページに収まりません（見本のお知らせで約{over}行はみ出します）。"
            "文面を短くしてください"
        )


def current(session: Session) -> NoticeTemplate | None:
    """The newest version, or ``None`` before ``tracker init-db`` seeded one."""
    return session.scalar(select(NoticeTemplate).order_by(NoticeTemplate.version.desc()).limit(1))


def save(
    session: Session,
    *,
    actor: str,
    title: str | None,
    body: str | None,
    sample: LetterFields,
    now: datetime,
) -> NoticeTemplate:
    """Store a new version (checked first: nothing is written on a refusal)."""
    title_text, body_text = check(title, body, sample)
    latest = session.scalar(select(func.max(NoticeTemplate.version))) or 0
    row = NoticeTemplate(
        version=latest + 1, title=title_text, body=body_text, created_by=actor, created_at=now
    )
    session.add(row)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action=AuditAction.NOTICE_TEMPLATE_CHANGE,
        object_type=ObjectType.NOTICE_TEMPLATE.value,
        object_id=row.id,
        details={"version": row.version, "previous_version": latest or None},
    )
    return row


def seed_default(session: Session, *, actor: str) -> bool:
    """Add version 1 with :data:`DEFAULT_TITLE` and :data:`DEFAULT_BODY` when none exists."""
    if session.scalar(select(NoticeTemplate.id).limit(1)) is not None:
        return False
    session.add(NoticeTemplate(version=1, title=DEFAULT_TITLE, body=DEFAULT_BODY, created_by=actor))
    session.flush()
    return True


__all__ = [
    "DEFAULT_BODY",
    "DEFAULT_TITLE",
    "FIELDS",
    "LetterFields",
    "TemplateError",
    "check",
    "compile_body",
    "current",
    "environment",
    "render_body",
    "sample_fields",
    "save",
    "seed_default",
]
