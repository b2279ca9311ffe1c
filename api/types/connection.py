"""Relay page information shared by every connection."""

import strawberry

from api.pagination import encode_cursor


@strawberry.type(description="Where a page sits in its list (Relay).")
class PageInfo:
    has_next_page: bool
    has_previous_page: bool
    start_cursor: str | None
    end_cursor: str | None


def page_info(skip: int, count: int, total: int) -> PageInfo:
    """PageInfo for `count` items starting at offset `skip` of `total`."""
    return PageInfo(
        has_next_page=skip + count < total,
        has_previous_page=skip > 0,
        start_cursor=encode_cursor(skip) if count else None,
        end_cursor=encode_cursor(skip + count - 1) if count else None,
    )
