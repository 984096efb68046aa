"""evaluation requests: the platform's queue of runs to score

Revision ID: 0002
Revises: 0001
"""
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def _queue_unscored_runs() -> None:
    """Runs that ended with an adapter before this queue existed and were never scored are queued too."""
    bind = op.get_bind()
    rows = bind.execute(sa.text(
        "SELECT id, artifacts FROM models WHERE status = 'finished' AND evaluated_at IS NULL")).all()
    now = datetime.now(UTC)
    for model_id, artifacts in rows:
        if isinstance(artifacts, str):
            import json
            artifacts = json.loads(artifacts)
        if (artifacts or {}).get("adapter"):
            bind.execute(sa.text(
                "INSERT INTO evaluation_requests (model_id, state, attempts, created_at) "
                "VALUES (:m, 'queued', 0, :t)"), {"m": model_id, "t": now})


def upgrade() -> None:
    op.create_table('evaluation_requests',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('model_id', sa.Integer(), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('worker', sa.String(length=120), nullable=True),
    sa.Column('lease_token', sa.String(length=64), nullable=True),
    sa.Column('lease_expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('claimed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['model_id'], ['models.id'], name=op.f('fk_evaluation_requests_model_id_models')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_evaluation_requests')),
    sa.UniqueConstraint('model_id', name=op.f('uq_evaluation_requests_model_id'))
    )
    with op.batch_alter_table('evaluation_requests', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_evaluation_requests_state'), ['state'], unique=False)
    _queue_unscored_runs()


def downgrade() -> None:
    with op.batch_alter_table('evaluation_requests', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_evaluation_requests_state'))
    op.drop_table('evaluation_requests')
