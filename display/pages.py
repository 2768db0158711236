"""The lobby display's pages and its voice clips."""

from flask import Blueprint

bp = Blueprint("display_pages", __name__, template_folder="templates")
