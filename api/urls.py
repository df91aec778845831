from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.routers import DefaultRouter

from api import booking_views, project_views, report_views, session_views, views

app_name = "api"

router = DefaultRouter()
router.register("schools", views.SchoolViewSet, basename="school")
router.register("spaces", views.SpaceViewSet, basename="space")
router.register("periods", views.PeriodViewSet, basename="period")
router.register("equipment-categories", views.EquipmentCategoryViewSet,
                basename="equipment-category")
router.register("equipment", views.EquipmentViewSet, basename="equipment")
router.register("loans", views.LoanViewSet, basename="loan")
router.register("certifications", views.CertificationViewSet, basename="certification")
router.register("users", views.UserViewSet, basename="user")
router.register("bookings", booking_views.BookingViewSet, basename="booking")
router.register("series", booking_views.SeriesViewSet, basename="series")
router.register("closures", booking_views.ClosureViewSet, basename="closure")
router.register("project-categories", project_views.ProjectCategoryViewSet,
                basename="project-category")
router.register("projects", project_views.ProjectViewSet, basename="project")
router.register(r"projects/(?P<project_pk>[0-9]+)/log", project_views.LogEntryViewSet,
                basename="project-log")
router.register(r"projects/(?P<project_pk>[0-9]+)/log/(?P<entry_pk>[0-9]+)/comments",
                project_views.LogCommentViewSet, basename="project-log-comment")
router.register(r"projects/(?P<project_pk>[0-9]+)/log/(?P<entry_pk>[0-9]+)/attachments",
                project_views.LogAttachmentViewSet, basename="project-log-attachment")
router.register(r"projects/(?P<project_pk>[0-9]+)/milestones", project_views.MilestoneViewSet,
                basename="project-milestone")
router.register(r"projects/(?P<project_pk>[0-9]+)/awards", project_views.AwardViewSet,
                basename="project-award")
router.register("mentors", session_views.MentorViewSet, basename="mentor")
router.register("mentor-sessions", session_views.MentorSessionViewSet, basename="mentor-session")

urlpatterns = [
    path("auth/token/", views.TokenView.as_view(), name="api-token"),
    path("me/", views.MeView.as_view(), name="api-me"),
    path("me/reset-feed-token/", views.ResetFeedTokenView.as_view(), name="api-reset-feed-token"),
    path("reports/usage/", report_views.UsageReportView.as_view(), name="report-usage"),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves its set-up as a script file: no inline script (CSP).
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api:schema"), name="api-docs"),
    path("", include(router.urls)),
]
