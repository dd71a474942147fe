"""The console's routes, mounted at / on the operator API server."""

from __future__ import annotations

from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from redline.web.console import admin, deconfliction, live, notice_forms, officers, pages, transcript, watch

ROUTES: list[BaseRoute] = [
    Route("/", pages.home, methods=["GET"]),
    Route("/login", pages.login_form, methods=["GET"]),
    Route("/login", pages.login, methods=["POST"]),
    Route("/logout", pages.logout, methods=["POST"]),
    Route("/traffic", pages.traffic, methods=["GET"]),
    Route("/compose", pages.compose_form, methods=["GET"]),
    Route("/compose", pages.compose, methods=["POST"]),
    Route("/messages/{message_id}", pages.message, methods=["GET"]),
    Route("/messages/{message_id}/ack", pages.acknowledge, methods=["POST"]),
    Route("/messages/{message_id}/translation", pages.translate, methods=["POST"]),
    Route("/messages/{message_id}/certify", pages.certify, methods=["POST"]),
    Route("/settings/language", pages.set_language, methods=["POST"]),
    Route("/links", admin.links, methods=["GET"]),
    Route("/links/{peer}/test", admin.link_test, methods=["POST"]),
    Route("/links/{peer}/transcript", transcript.transcript, methods=["GET"]),
    Route("/links/{peer}/transcript/export", transcript.export, methods=["GET"]),
    Route("/transcripts", transcript.index, methods=["GET"]),
    Route("/audit", admin.audit, methods=["GET"]),
    Route("/admin", admin.admin, methods=["GET"]),
    Route("/admin/operators", officers.add_operator, methods=["POST"]),
    Route("/admin/operators/{name}/totp", officers.admin_totp, methods=["POST"]),
    Route("/admin/operators/{name}/totp/confirm", officers.admin_totp_confirm, methods=["POST"]),
    Route("/admin/operators/{name}/password", officers.reset_password, methods=["POST"]),
    Route("/admin/operators/{name}/unlock", officers.unlock, methods=["POST"]),
    Route("/admin/operators/{name}/disable", officers.disable, methods=["POST"]),
    Route("/admin/operators/{name}/enable", officers.enable, methods=["POST"]),
    Route("/account", officers.account, methods=["GET"]),
    Route("/account/totp", officers.own_totp, methods=["POST"]),
    Route("/account/totp/confirm", officers.own_totp_confirm, methods=["POST"]),
    Route("/watch", watch.watch, methods=["GET"]),
    Route("/watch/{position}/sign-on", watch.sign_on, methods=["POST"]),
    Route("/watch/{position}/sign-off", watch.sign_off, methods=["POST"]),
    Route("/watch/{position}/handover", watch.handover, methods=["POST"]),
    Route("/watch/{position}/accept", watch.accept, methods=["POST"]),
    Route("/watch/{position}/relieve", watch.relieve, methods=["POST"]),
    Route("/deconfliction", deconfliction.deconfliction, methods=["GET"]),
    Route("/deconfliction/data", deconfliction.deconfliction_data, methods=["GET"]),
    Route("/deconfliction/notices", notice_forms.file_notice, methods=["POST"]),
    Route("/deconfliction/notices/{notice_id}", notice_forms.amend_notice, methods=["POST"]),
    Route("/deconfliction/notices/{notice_id}/cancel", notice_forms.cancel_notice, methods=["POST"]),
    Route("/vendor/{path:path}", deconfliction.vendor_file, methods=["GET"]),
    Route("/events", live.events, methods=["GET"]),
    Mount("/static", StaticFiles(packages=[("redline.web.console", "static")]), name="static"),
]
