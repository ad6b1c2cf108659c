"""Engagement: what people do with a story — read it through, share it, follow its links.

Never who follows whom: no follower counts are fetched, stored or shown.
"""
