"""The "Cron entries" pages: schedules stored as rows, listed, searched, created and edited.

The form validates as ``CronEntry.objects.schedule()`` does (the system
checks' texts, field by field) and its page shows the entry's next runs;
its "Preview" button shows them before saving, from what the form holds.
Enable, disable and run-now are actions that need their own permissions, as
on the Cron jobs pages; like there, they only set flags for the next
runcrons: no job code runs in a web request.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import JSONField, QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed, JsonResponse
from django.shortcuts import redirect
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

from ..entries.due import counted_history
from ..models import UNSUCCESSFUL, CronEntry, RunStatus
from ..models.entries import SCHEDULE_FIELDS
from ..monitoring import controls
from ..schedules.wallclock import floor_minute
from ..text.moments import in_zone, local_in
from .log import configured_codes, status_mark

# Next runs shown on an entry's page.
UPCOMING = 5

PAUSE_PERMISSION = "django_cronjobs.pause_cronentry"
RUN_PERMISSION = "django_cronjobs.run_cronentry"


class JobFilter(admin.SimpleListFilter):
    """Entries by job, listed from CRON_CLASSES (no DISTINCT over the entries)."""

    title = _("job")
    parameter_name = "job"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [(code, code) for code in configured_codes()]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any] | None:
        code = self.value()
        return queryset.filter(job=code) if code else queryset


class HealthFilter(admin.SimpleListFilter):
    """Entries by how their last run went."""

    title = _("last run")
    parameter_name = "health"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        return [
            ("failing", _("failing")),
            ("running", _("running")),
            ("never", _("never run")),
            ("ok", _("succeeded")),
        ]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any] | None:
        value = self.value()
        if value == "failing":
            return queryset.filter(state__last_status__in=UNSUCCESSFUL)
        if value == "running":
            return queryset.filter(state__last_status__in=[RunStatus.RUNNING, RunStatus.ENQUEUED])
        if value == "never":
            return queryset.filter(state__last_started_at__isnull=True)
        if value == "ok":
            return queryset.filter(state__last_status=RunStatus.SUCCEEDED)
        return queryset


class OptionalJSONField(forms.JSONField):
    """No value (no day filter) shows as an empty box, not as the JSON word ``null``."""

    def prepare_value(self, value: Any) -> Any:
        return "" if value is None else super().prepare_value(value)


class CronEntryForm(forms.ModelForm):  # type: ignore[type-arg]
    """The job is chosen among the configured ones; the rest is validated by the model."""

    job = forms.ChoiceField(label=_("Job"), choices=())

    class Meta:
        model = CronEntry
        fields = ["job", "key", "kwargs", "description", "enabled", *SCHEDULE_FIELDS]
        # One line for the short JSON values: a list of times or days.
        widgets = {
            "kwargs": forms.Textarea(attrs={"rows": 3}),
            "description": forms.Textarea(attrs={"rows": 2}),
            "run_at_times": forms.TextInput(attrs={"placeholder": '["07:30", "19:00"]'}),
            "run_weekly_on_days": forms.TextInput(attrs={"placeholder": "[0, 1, 2, 3, 4]"}),
            "run_monthly_on_days": forms.TextInput(attrs={"placeholder": "[1, 15]"}),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        codes = configured_codes()
        current = self.instance.job if self.instance.pk else ""
        if current and current not in codes:
            codes.append(current)  # its job left CRON_CLASSES: the form still shows it
        job = self.fields["job"]
        assert isinstance(job, forms.ChoiceField)
        job.choices = [("", "---------"), *((code, code) for code in codes)]
        if self.instance.pk:
            self.fields["job"].disabled = True
            self.fields["key"].disabled = True


@admin.register(CronEntry)
class CronEntryAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    form = CronEntryForm
    change_form_template = "admin/django_cronjobs/cronentry/change_form.html"
    formfield_overrides = {JSONField: {"form_class": OptionalJSONField}}
    list_display = [
        "key",
        "job",
        "schedule_text",
        "enabled",
        "next_run",
        "last_run",
        "failures",
    ]
    list_display_links = ["key"]
    list_filter = [JobFilter, "enabled", HealthFilter]
    list_select_related = ["state"]
    search_fields = ["key", "description"]
    search_help_text = _("Key or description of the entry.")
    ordering = ["job", "key"]
    show_full_result_count = False
    actions = ["enable_entries", "disable_entries", "run_entries"]
    readonly_fields = ["upcoming", "last_run", "failures", "runs_link", "counts_from_text"]
    fieldsets = [
        (None, {"fields": ["job", "key", "kwargs", "description", "enabled"]}),
        (
            _("Schedule"),
            {
                # The cron expression first: what most entries are written with.
                "fields": ["cron", *(name for name in SCHEDULE_FIELDS if name != "cron")],
                "description": _(
                    "A new or changed schedule counts from the moment it is saved: "
                    "its first run is its first slot after that."
                ),
            },
        ),
        (
            _("Runs"),
            {"fields": ["upcoming", "counts_from_text", "last_run", "failures", "runs_link"]},
        ),
    ]

    def get_fieldsets(self, request: HttpRequest, obj: Any = None) -> Any:
        """A new entry has no runs yet: its form ends with the schedule (and the preview)."""
        fieldsets = super().get_fieldsets(request, obj)
        return fieldsets if obj is not None else fieldsets[:-1]

    # -- columns ------------------------------------------------------------------

    @admin.display(description=_("schedule"))
    def schedule_text(self, entry: CronEntry) -> str:
        try:
            return entry.schedule.describe()
        except Exception:  # a row written around validation
            return entry.cron or "?"

    @admin.display(description=_("next run"), ordering="next_due")
    def next_run(self, entry: CronEntry) -> str:
        if entry.next_due is None:
            return "-"
        return in_zone(entry.next_due, entry.schedule.zone)

    @admin.display(description=_("last run"))
    def last_run(self, entry: CronEntry) -> str:
        state = getattr(entry, "state", None)
        if state is None or not state.last_status:
            return "-"
        return format_html(
            "{} {}",
            status_mark(state.last_status),
            in_zone(state.last_started_at, entry.schedule.zone),
        )

    @admin.display(description=_("failures in a row"))
    def failures(self, entry: CronEntry) -> int:
        state = getattr(entry, "state", None)
        return state.failure_streak if state is not None else 0

    @admin.display(description=_("next runs"))
    def upcoming(self, entry: CronEntry) -> str:
        if entry.pk is None:
            return "-"
        if not entry.enabled:
            return str(_("none while it is disabled"))
        texts = upcoming_texts(entry, timezone.now())
        return format_html(
            '<ul class="cronjobs-next">{}</ul>',
            format_html_join("", "<li>{}</li>", ((t,) for t in texts)),
        )

    @admin.display(description=_("counts from"))
    def counts_from_text(self, entry: CronEntry) -> str:
        return "-" if entry.pk is None else in_zone(entry.counts_from, entry.schedule.zone)

    @admin.display(description=_("run log"))
    def runs_link(self, entry: CronEntry) -> str:
        if entry.pk is None:
            return "-"
        url = reverse("admin:django_cronjobs_cronjoblog_changelist")
        return format_html(
            '<a href="{}?code={}&amp;entry={}">{}</a>', url, entry.job, entry.key, _("all runs")
        )

    # -- the preview of the next runs, before saving ---------------------------------

    def get_urls(self) -> list[URLPattern]:
        def view(function: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
            return self.admin_site.admin_view(function)

        name = "django_cronjobs_cronentry_"
        return [
            path("preview/", view(self.preview_view), name=name + "preview"),
            path("<path:object_id>/enable/", view(self.enable_view), name=name + "enable"),
            path("<path:object_id>/disable/", view(self.disable_view), name=name + "disable"),
            path("<path:object_id>/run/", view(self.run_view), name=name + "run"),
            *super().get_urls(),
        ]

    def render_change_form(
        self, request: HttpRequest, context: dict[str, Any], *args: Any, **kwargs: Any
    ) -> HttpResponse:
        context["can_pause"] = self.has_pause_permission(request)
        context["can_run"] = self.has_run_permission(request)
        return super().render_change_form(request, context, *args, **kwargs)

    def preview_view(self, request: HttpRequest) -> HttpResponse:
        """The next runs of the entry the form describes, as JSON; nothing is saved.

        ``?entry=<pk>`` previews a change of that entry. A schedule that is new
        or changed counts from now, as it will once saved. A form the entry
        would be refused with gets its errors instead (the system checks' texts).
        """
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        entry = None
        if request.GET.get("entry"):
            entry = self.get_object(request, request.GET["entry"])
            if entry is None:
                raise Http404
        allowed = (
            self.has_change_permission(request, entry)
            if entry is not None
            else self.has_add_permission(request)
        )
        if not allowed:
            raise PermissionDenied
        form_class = self.get_form(request, entry, change=entry is not None)
        form = form_class(request.POST, instance=entry)
        if not form.is_valid():
            errors = {
                field: [str(error) for error in found] for field, found in form.errors.items()
            }
            return JsonResponse({"errors": errors})
        wanted: CronEntry = form.instance
        if not wanted.enabled:
            return JsonResponse({"runs": [], "note": str(_("none while it is disabled"))})
        now = timezone.now()
        if wanted._state.adding or wanted.counting_changed():
            wanted.counts_from = now
        return JsonResponse({"runs": upcoming_texts(wanted, now)})

    # -- the buttons of an entry's page -------------------------------------------------

    def enable_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        return self._act(request, object_id, "pause", _("Enabled."), enable)

    def disable_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        return self._act(request, object_id, "pause", _("Disabled."), disable)

    def run_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        return self._act(request, object_id, "run", _("Requested a run."), request_run)

    def _act(
        self,
        request: HttpRequest,
        object_id: str,
        permission: str,
        done: StrOrPromise,
        action: Callable[[CronEntry], bool],
    ) -> HttpResponse:
        """One button: POST only, with the action's permission, recorded in the history."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        entry = self.get_object(request, object_id)
        if entry is None:
            raise Http404
        if not getattr(self, f"has_{permission}_permission")(request):
            raise PermissionDenied
        if action(entry):
            self.log_change(request, entry, str(done))
            messages.success(request, f"{done} ({entry.run_name})")
        else:
            messages.info(request, _("Nothing changed for %s.") % entry.run_name)
        return redirect("admin:django_cronjobs_cronentry_change", entry.pk)

    # -- actions ------------------------------------------------------------------

    def has_pause_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.has_perm(PAUSE_PERMISSION))

    def has_run_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.has_perm(RUN_PERMISSION))

    @admin.action(description=_("Enable the selected entries"), permissions=["pause"])
    def enable_entries(self, request: HttpRequest, queryset: QuerySet[CronEntry]) -> None:
        self._switch(request, queryset, True)

    @admin.action(description=_("Disable the selected entries"), permissions=["pause"])
    def disable_entries(self, request: HttpRequest, queryset: QuerySet[CronEntry]) -> None:
        self._switch(request, queryset, False)

    @admin.action(description=_("Run the selected entries now"), permissions=["run"])
    def run_entries(self, request: HttpRequest, queryset: QuerySet[CronEntry]) -> None:
        requested = 0
        for entry in queryset:
            if controls.request_entry_run(entry):
                requested += 1
                self.log_change(request, entry, "Requested a run.")
        messages.success(
            request,
            ngettext(
                "Requested a run of %(count)d entry.",
                "Requested a run of %(count)d entries.",
                requested,
            )
            % {"count": requested},
        )

    def _switch(self, request: HttpRequest, queryset: QuerySet[CronEntry], enabled: bool) -> None:
        changed = 0
        for entry in queryset:
            if controls.set_entry_enabled(entry, enabled):
                changed += 1
                self.log_change(request, entry, "Enabled." if enabled else "Disabled.")
        template = (
            ngettext("Enabled %(count)d entry.", "Enabled %(count)d entries.", changed)
            if enabled
            else ngettext("Disabled %(count)d entry.", "Disabled %(count)d entries.", changed)
        )
        messages.success(request, template % {"count": changed})


def enable(entry: CronEntry) -> bool:
    return controls.set_entry_enabled(entry, True)


def disable(entry: CronEntry) -> bool:
    return controls.set_entry_enabled(entry, False)


def request_run(entry: CronEntry) -> bool:
    return controls.request_entry_run(entry)


def upcoming_texts(entry: CronEntry, now: datetime) -> list[str]:
    """The entry's next UPCOMING runs as the page shows them: the first with its zone."""
    zone = entry.schedule.zone
    moments = next_runs(entry, now, UPCOMING)
    return [in_zone(m, zone) if n == 0 else local_in(m, zone) for n, m in enumerate(moments)]


def next_runs(entry: CronEntry, now: datetime, count: int) -> list[datetime]:
    """The entry's next ``count`` slots after ``now``, counted as runcrons counts them."""
    state = getattr(entry, "state", None)
    history = counted_history(
        entry.counts_from, state.last_slot if state is not None else None, None
    )
    last = history.last_slot or floor_minute(entry.counts_from)
    after = max(last, floor_minute(now))
    return entry.schedule.next_slots(after, count, previous_slot=last)
