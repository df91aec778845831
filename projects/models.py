"""Student projects with their logbook (the data book), and mentors with their sessions."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

DEFAULT_ORGANIZATION = "Sở Khoa học và Công nghệ Đồng Tháp"


class ProjectCategory(models.Model):
    """A fair category (ViSEF/ISEF list), in both languages, for one school year."""

    name_vi = models.CharField(_("name (Vietnamese)"), max_length=150)
    name_en = models.CharField(_("name (English)"), max_length=150)
    year = models.PositiveSmallIntegerField(
        _("school year"), validators=[MinValueValidator(2000), MaxValueValidator(2100)],
        help_text=_("The year the school year starts, e.g. 2026 for 2026–2027."))
    is_active = models.BooleanField(_("in use"), default=True)

    class Meta:
        verbose_name = _("project category")
        verbose_name_plural = _("project categories")
        ordering = ["-year", "name_en"]
        constraints = [models.UniqueConstraint(fields=["year", "name_en"],
                                               name="category_unique_per_year")]

    def __str__(self) -> str:
        return self.name

    @property
    def name(self) -> str:
        return self.name_en if (get_language() or "vi").startswith("en") else self.name_vi


class ProjectKind(models.TextChoices):
    SCIENCE = "science", _("Science")
    ENGINEERING = "engineering", _("Engineering")
    STARTUP = "startup", _("Startup")


class ProjectStatus(models.TextChoices):
    IDEA = "idea", _("Idea")
    ACTIVE = "active", _("Active")
    PROTOTYPE = "prototype", _("Prototype")
    COMPLETED = "completed", _("Completed")
    EXHIBITED = "exhibited", _("Exhibited")
    ARCHIVED = "archived", _("Archived")


class Visibility(models.TextChoices):
    PUBLIC = "public", _("Public (in the showcase)")
    PRIVATE = "private", _("Private")


class StartupStage(models.TextChoices):
    IDEA = "idea", _("Idea")
    PROTOTYPE = "prototype", _("Prototype")
    FIRST_CUSTOMERS = "first_customers", _("First customers")


class IPStatus(models.TextChoices):
    NONE = "none", _("None")
    TRADEMARK_FILED = "trademark_filed", _("Trademark filed")
    TRADEMARK_GRANTED = "trademark_granted", _("Trademark granted")
    PATENT_FILED = "patent_filed", _("Patent or utility solution filed")
    PATENT_GRANTED = "patent_granted", _("Patent or utility solution granted")


class Project(models.Model):
    school = models.ForeignKey("spaces.School", verbose_name=_("school"),
                               on_delete=models.PROTECT, related_name="projects")
    title = models.CharField(_("title"), max_length=200)
    summary = models.TextField(_("summary"), blank=True)
    category = models.ForeignKey(ProjectCategory, verbose_name=_("category"), null=True,
                                 blank=True, on_delete=models.PROTECT, related_name="projects")
    kind = models.CharField(_("kind"), max_length=12, choices=ProjectKind.choices,
                            default=ProjectKind.SCIENCE)
    status = models.CharField(_("status"), max_length=12, choices=ProjectStatus.choices,
                              default=ProjectStatus.IDEA)
    started_on = models.DateField(_("started on"), default=timezone.localdate)
    visibility = models.CharField(_("visibility"), max_length=8, choices=Visibility.choices,
                                  default=Visibility.PRIVATE)
    advisor = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("advisor"), null=True,
                                blank=True, on_delete=models.PROTECT, related_name="advised_projects",
                                help_text=_("A teacher of the school."))
    mentors: models.ManyToManyField[Mentor, Project] = models.ManyToManyField(
        "Mentor", verbose_name=_("mentors"), blank=True, related_name="projects")
    max_members = models.PositiveSmallIntegerField(
        _("largest team"), validators=[MinValueValidator(1), MaxValueValidator(20)],
        help_text=_("ISEF allows 3; startup contests 5."))
    startup_stage = models.CharField(_("startup stage"), max_length=16,
                                     choices=StartupStage.choices, blank=True)
    ip_status = models.CharField(_("intellectual property"), max_length=20,
                                 choices=IPStatus.choices, default=IPStatus.NONE)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("project")
        verbose_name_plural = _("projects")
        ordering = ["-started_on", "-id"]
        indexes = [models.Index(fields=["school", "status"], name="project_school_status")]

    def __str__(self) -> str:
        return self.title


class MemberRole(models.TextChoices):
    LEADER = "leader", _("Leader")
    MEMBER = "member", _("Member")


class Membership(models.Model):
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("student"),
                             on_delete=models.PROTECT, related_name="memberships")
    role = models.CharField(_("role"), max_length=8, choices=MemberRole.choices,
                            default=MemberRole.MEMBER)
    joined_on = models.DateField(_("joined on"), default=timezone.localdate)
    left_on = models.DateField(_("left on"), null=True, blank=True)

    class Meta:
        verbose_name = _("team member")
        verbose_name_plural = _("team")
        ordering = ["role", "joined_on", "id"]
        constraints = [models.UniqueConstraint(
            fields=["project", "user"], condition=Q(left_on__isnull=True),
            name="membership_one_active_per_person")]

    def __str__(self) -> str:
        return f"{self.user} ({self.get_role_display()})"


class LogEntry(models.Model):
    """A dated page of the project data book. Never deleted; members edit it for 7 days."""

    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="log_entries")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("author"),
                               on_delete=models.PROTECT, related_name="log_entries")
    date = models.DateField(_("date"), default=timezone.localdate)
    hours = models.DecimalField(_("hours"), max_digits=4, decimal_places=2,
                                validators=[MinValueValidator(0), MaxValueValidator(24)])
    body = models.TextField(_("what was done"))
    equipment = models.ManyToManyField("spaces.Equipment", verbose_name=_("equipment used"),
                                       blank=True, related_name="log_entries")
    booking = models.ForeignKey("bookings.Booking", verbose_name=_("booking"), null=True,
                                blank=True, on_delete=models.PROTECT, related_name="log_entries")
    created_at = models.DateTimeField(_("written at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("logbook entry")
        verbose_name_plural = _("logbook")
        ordering = ["date", "id"]
        constraints = [models.CheckConstraint(condition=Q(hours__gte=0) & Q(hours__lte=24),
                                              name="log_hours_within_a_day")]
        indexes = [
            models.Index(fields=["project", "date"], name="log_project_date"),
            # The usage report's window over all schools' entries (reports.usage).
            models.Index(fields=["date"], name="log_date"),
        ]

    def __str__(self) -> str:
        return f"{self.date:%d/%m/%Y} · {self.project}"


class LogAttachment(models.Model):
    entry = models.ForeignKey(LogEntry, on_delete=models.PROTECT, related_name="attachments")
    file = models.FileField(_("file"), upload_to="logbook/%Y/%m/")
    original_name = models.CharField(_("file name"), max_length=255)
    content_type = models.CharField(_("type"), max_length=100)
    size = models.PositiveIntegerField(_("size (bytes)"))
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                    related_name="+")
    uploaded_at = models.DateTimeField(_("uploaded at"), auto_now_add=True)

    class Meta:
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")
        ordering = ["uploaded_at", "id"]

    def __str__(self) -> str:
        return self.original_name


class LogComment(models.Model):
    """The advisor's or a mentor's comment on a logbook entry."""

    entry = models.ForeignKey(LogEntry, on_delete=models.PROTECT, related_name="comments")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("author"),
                               on_delete=models.PROTECT, related_name="+")
    body = models.TextField(_("comment"))
    created_at = models.DateTimeField(_("written at"), auto_now_add=True)

    class Meta:
        verbose_name = _("comment")
        verbose_name_plural = _("comments")
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return self.body[:50]


class Milestone(models.Model):
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="milestones")
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    due_on = models.DateField(_("due on"))
    completed_on = models.DateField(_("completed on"), null=True, blank=True)

    class Meta:
        verbose_name = _("milestone")
        verbose_name_plural = _("milestones")
        ordering = ["due_on", "id"]

    def __str__(self) -> str:
        return self.title


class AwardLevel(models.TextChoices):
    SCHOOL = "school", _("School")
    PROVINCE = "province", _("Province")
    NATIONAL = "national", _("National")
    INTERNATIONAL = "international", _("International")


class Award(models.Model):
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="awards")
    competition = models.CharField(_("competition"), max_length=200)
    level = models.CharField(_("level"), max_length=16, choices=AwardLevel.choices)
    year = models.PositiveSmallIntegerField(
        _("year"), validators=[MinValueValidator(2000), MaxValueValidator(2100)])
    result = models.CharField(_("result"), max_length=120, help_text=_("e.g. First prize"))

    class Meta:
        verbose_name = _("award")
        verbose_name_plural = _("awards")
        ordering = ["-year", "id"]

    def __str__(self) -> str:
        return f"{self.result} — {self.competition} {self.year}"


class Mentor(models.Model):
    """An expert (usually from the Department) who mentors and trains students."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, verbose_name=_("user"),
                                on_delete=models.PROTECT, related_name="mentor_profile")
    organization = models.CharField(_("organization"), max_length=200,
                                    default=DEFAULT_ORGANIZATION)
    expertise = models.JSONField(_("expertise"), default=list, blank=True,
                                 help_text=_("Areas, e.g. [\"IoT\", \"trademarks\"]."))
    bio = models.TextField(_("short bio"), blank=True)

    class Meta:
        verbose_name = _("mentor")
        verbose_name_plural = _("mentors")
        ordering = ["user__full_name", "id"]

    def __str__(self) -> str:
        return str(self.user)


class SessionKind(models.TextChoices):
    MENTORING = "mentoring", _("Mentoring")
    TRAINING = "training", _("Training")
    WORKSHOP = "workshop", _("Workshop")


class MentorSession(models.Model):
    """A mentor's session in a space; it owns the booking that holds the room."""

    mentor = models.ForeignKey(Mentor, verbose_name=_("mentor"), on_delete=models.PROTECT,
                               related_name="sessions")
    booking = models.OneToOneField("bookings.Booking", verbose_name=_("booking"),
                                   on_delete=models.PROTECT, related_name="mentor_session")
    school = models.ForeignKey("spaces.School", verbose_name=_("school"),
                               on_delete=models.PROTECT, related_name="+")
    topic = models.CharField(_("topic"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    kind = models.CharField(_("kind"), max_length=10, choices=SessionKind.choices,
                            default=SessionKind.MENTORING)
    projects = models.ManyToManyField(Project, verbose_name=_("projects attending"), blank=True,
                                      related_name="mentor_sessions")
    capacity = models.PositiveIntegerField(_("places"), default=30,
                                           validators=[MinValueValidator(1)])
    notes = models.TextField(_("mentor's notes"), blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("created by"),
                                   on_delete=models.PROTECT, related_name="+")
    reminder_sent_at = models.DateTimeField(_("reminder sent at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("mentor session")
        verbose_name_plural = _("mentor sessions")
        ordering = ["-id"]

    def __str__(self) -> str:
        return self.topic


class Registration(models.Model):
    """A student's place in a session, their attendance and their feedback."""

    session = models.ForeignKey(MentorSession, on_delete=models.PROTECT,
                                related_name="registrations")
    student = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("student"),
                                on_delete=models.PROTECT, related_name="session_registrations")
    registered_at = models.DateTimeField(_("registered at"), default=timezone.now)
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)
    attended = models.BooleanField(_("attended"), null=True, blank=True)
    rating = models.PositiveSmallIntegerField(
        _("rating"), null=True, blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(5)])
    feedback = models.TextField(_("feedback"), blank=True)

    class Meta:
        verbose_name = _("registration")
        verbose_name_plural = _("registrations")
        ordering = ["registered_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["session", "student"],
                                    condition=Q(cancelled_at__isnull=True),
                                    name="registration_one_active_per_student"),
            models.CheckConstraint(condition=Q(rating__isnull=True)
                                   | (Q(rating__gte=1) & Q(rating__lte=5)),
                                   name="registration_rating_1_to_5"),
        ]

    def __str__(self) -> str:
        return f"{self.student} → {self.session}"
