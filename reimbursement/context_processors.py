from reimbursement import roles


def navigation(request):
    """Tell base.html which navigation entries this user may use."""
    user = request.user
    return {
        "nav_show_inquiries": roles.is_support_agent(user),
        "nav_show_admin": user.is_authenticated and user.is_staff,
    }
