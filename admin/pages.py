"""The admin's and supervisor's pages."""

from flask import Blueprint

bp = Blueprint("admin_pages", __name__, template_folder="templates")
