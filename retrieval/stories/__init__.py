"""Views of a story across articles: timeline, comparison of outlets, brief, follows."""
