"""The workspace database: one SQLite file through sqlite-utils, schema under migrations.

Only this package touches sqlite_utils. Raw measurements (box_readings), the machine's decision (the
state column beside them) and the human's decision (decisions) live in separate tables: re-reading a
scan replaces machine rows only and never a human decision. Writes that belong together go through
`db.atomic()`; the database runs in WAL mode on local disk.

One module per group of tables; callers use `store.<function>`. All migrations live in `schema.py`,
in the order they are applied.
"""

from __future__ import annotations

from pipeline.store.admin import (  # noqa: F401
    all_departments,
    audit_count,
    audit_entries,
    earliest_received_after,
    file_outcome,
    get_report,
    get_upload_job,
    insert_upload_job,
    latest_batch,
    open_review_counts,
    recent_upload_jobs,
    response_extent,
    responses_by_channel,
    set_password_hash,
    set_user_active,
    sheet_count,
    update_upload_job,
)
from pipeline.store.base import (  # noqa: F401
    DB,
    audit,
    now_iso,
    rows,
    to_json,
)
from pipeline.store.forms import (  # noqa: F401
    FormVersion,
    all_form_versions,
    allocate_serials,
    form_versions_by_key,
    get_form_version,
    latest_form_version,
    list_form_versions,
    publish_form_version,
)
from pipeline.store.office import (  # noqa: F401
    OFFICE_FIELDS,
    add_department,
    get_office,
    remove_department,
    rename_department,
    set_office,
)
from pipeline.store.quarantine import (  # noqa: F401
    archived_path,
    close_quarantine,
    delete_rejected_page,
    forget_rejected_file,
    open_quarantine,
    quarantine_item,
    quarantined_file,
)
from pipeline.store.readings import (  # noqa: F401
    active_decisions,
    add_quarantine,
    add_review_item,
    box_values,
    check_missing_pages,
    count_open_review_items,
    duplicate_count,
    ensure_sheet,
    fail_batch,
    file_known,
    finish_batch,
    insert_batch,
    insert_box_readings,
    insert_box_values,
    insert_page,
    insert_text_readings,
    manual_answers,
    pending_text_drafts,
    record_decision,
    record_file,
    refresh_sheet_status,
    rejected_pages,
    set_file_archived,
    set_text_draft,
    sheet_box_states,
    sheet_page_numbers,
    sheet_pages,
    sheet_texts,
    sheets_between,
)
from pipeline.store.reports import (  # noqa: F401
    complaint_targets,
    insert_manual_sheet,
    insert_report,
    list_reports,
)
from pipeline.store.responses import (  # noqa: F401
    get_sheet,
    insert_response,
    sheet_exists,
    version_key,
)
from pipeline.store.schema import (  # noqa: F401
    migrations,
    open_db,
)
from pipeline.store.web import (  # noqa: F401
    add_user,
    close_sessions,
    create_user,
    get_user,
    list_users,
    open_session,
    record_action,
    session_user,
    set_review_item_status,
    set_sheet_duplicate,
    undo_action,
    web_secret,
)
