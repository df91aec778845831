from django.contrib.auth import views as auth_views
from django.urls import path, reverse_lazy

from web import dashboard, databook, manage_views, views

urlpatterns = [
    path("", views.home, name="home"),
    path("accounts/login/",
         auth_views.LoginView.as_view(template_name="registration/login.html",
                                      redirect_authenticated_user=True),
         name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    # Own template names: the admin's registration/ templates would win otherwise.
    path("accounts/password/",
         auth_views.PasswordChangeView.as_view(
             template_name="web/password_change_form.html",
             success_url=reverse_lazy("password_change_done")),
         name="password_change"),
    path("accounts/password/done/",
         auth_views.PasswordChangeDoneView.as_view(template_name="web/password_change_done.html"),
         name="password_change_done"),
    path("dashboard/", dashboard.dashboard, name="dashboard"),
    path("equipment/<int:pk>/", views.equipment_detail, name="equipment-detail"),
    path("spaces/<int:pk>/labels.svg", views.space_labels_svg, name="space-labels"),
    path("spaces/<int:pk>/labels/", views.space_labels_print, name="space-labels-print"),
    path("projects/<int:pk>/databook/", databook.databook, name="project-databook"),
    path("manage/approvals/", manage_views.approvals, name="manage-approvals"),
    path("manage/", manage_views.approvals),
    path("manage/closures/", manage_views.closures, name="manage-closures"),
    path("manage/closures/<int:pk>/delete/", manage_views.closure_delete,
         name="manage-closure-delete"),
    path("manage/equipment/", manage_views.equipment, name="manage-equipment"),
    path("manage/loans/", manage_views.loans, name="manage-loans"),
    path("manage/loans/<int:pk>/return/", manage_views.loan_return, name="manage-loan-return"),
]
