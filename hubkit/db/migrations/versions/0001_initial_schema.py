"""initial schema

Revision ID: 0001
Revises: 
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


_APPEND_ONLY_MSG = "loss_points is append-only"


def _create_append_only_guard() -> None:
    """Loss points only grow: the database itself refuses updates and deletes."""
    if op.get_bind().dialect.name == "sqlite":
        for action in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER loss_points_no_{action.lower()} BEFORE {action} ON loss_points "
                f"BEGIN SELECT RAISE(ABORT, '{_APPEND_ONLY_MSG}'); END"
            )
    else:
        op.execute(
            "CREATE FUNCTION loss_points_append_only() RETURNS trigger AS $$ "
            f"BEGIN RAISE EXCEPTION '{_APPEND_ONLY_MSG}'; END; $$ LANGUAGE plpgsql"
        )
        op.execute(
            "CREATE TRIGGER loss_points_append_only BEFORE UPDATE OR DELETE ON loss_points "
            "FOR EACH ROW EXECUTE FUNCTION loss_points_append_only()"
        )


def _drop_append_only_guard() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS loss_points_no_update")
        op.execute("DROP TRIGGER IF EXISTS loss_points_no_delete")
    else:
        op.execute("DROP TRIGGER IF EXISTS loss_points_append_only ON loss_points")
        op.execute("DROP FUNCTION IF EXISTS loss_points_append_only()")


def upgrade() -> None:
    op.create_table('base_models',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=120), nullable=False),
    sa.Column('family', sa.String(length=40), nullable=False),
    sa.Column('hf_id', sa.String(length=200), nullable=False),
    sa.Column('architecture', sa.String(length=80), nullable=False),
    sa.Column('licence', sa.String(length=120), nullable=False),
    sa.Column('parameters', sa.BigInteger(), nullable=True),
    sa.Column('is_standin', sa.Boolean(), nullable=False),
    sa.Column('info', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('benchmark_scores', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_base_models')),
    sa.UniqueConstraint('key', name=op.f('uq_base_models_key'))
    )
    op.create_table('users',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('username', sa.String(length=64), nullable=False),
    sa.Column('role', sa.Enum('casual', 'developer', 'educator', 'researcher', 'admin', name='role', native_enum=False, create_constraint=True, length=16), nullable=False),
    sa.Column('display_name', sa.String(length=200), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_users')),
    sa.UniqueConstraint('username', name=op.f('uq_users_username'))
    )
    op.create_table('datasets',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('owner_id', sa.Integer(), nullable=True),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('fingerprint', sa.String(length=64), nullable=False),
    sa.Column('format', sa.String(length=32), nullable=False),
    sa.Column('source', sa.String(length=500), nullable=True),
    sa.Column('n_rows', sa.Integer(), nullable=False),
    sa.Column('stats', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('archive_hash', sa.String(length=64), nullable=True),
    sa.Column('parent_dataset_id', sa.Integer(), nullable=True),
    sa.Column('licence', sa.String(length=120), nullable=True),
    sa.Column('tainted', sa.String(length=500), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['owner_id'], ['users.id'], name=op.f('fk_datasets_owner_id_users')),
    sa.ForeignKeyConstraint(['parent_dataset_id'], ['datasets.id'], name=op.f('fk_datasets_parent_dataset_id_datasets')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_datasets'))
    )
    with op.batch_alter_table('datasets', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_datasets_fingerprint'), ['fingerprint'], unique=False)

    op.create_table('dataset_items',
    sa.Column('dataset_id', sa.Integer(), nullable=False),
    sa.Column('item_hash', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['dataset_id'], ['datasets.id'], name=op.f('fk_dataset_items_dataset_id_datasets')),
    sa.PrimaryKeyConstraint('dataset_id', 'item_hash', name=op.f('pk_dataset_items'))
    )
    op.create_table('models',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('slug', sa.String(length=120), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('owner_id', sa.Integer(), nullable=False),
    sa.Column('domain', sa.String(length=40), nullable=False),
    sa.Column('base_model_id', sa.Integer(), nullable=False),
    sa.Column('dataset_id', sa.Integer(), nullable=True),
    sa.Column('dataset_fingerprint', sa.String(length=64), nullable=True),
    sa.Column('parent_model_id', sa.Integer(), nullable=True),
    sa.Column('training_outcome', sa.Enum('success', 'failure', 'partial', name='outcome', native_enum=False, create_constraint=True, length=16), nullable=True),
    sa.Column('parent_relation', sa.String(length=16), nullable=True),
    sa.Column('status', sa.Enum('queued', 'running', 'finished', name='run_status', native_enum=False, create_constraint=True, length=16), nullable=False),
    sa.Column('failure_class', sa.String(length=40), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('heartbeat_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('duration_s', sa.Float(), nullable=True),
    sa.Column('seed', sa.Integer(), nullable=True),
    sa.Column('visibility', sa.Enum('public', 'unlisted', 'private', name='visibility', native_enum=False, create_constraint=True, length=16), nullable=False),
    sa.Column('executed_by', sa.Enum('platform', 'user', name='executed_by', native_enum=False, create_constraint=True, length=16), nullable=False),
    sa.Column('template', sa.String(length=200), nullable=True),
    sa.Column('template_version', sa.String(length=40), nullable=True),
    sa.Column('evaluated_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('failure_message', sa.Text(), nullable=True),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('config', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('hardware', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('versions', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('artifacts', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('benchmark_scores', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('loss_curve_data', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.ForeignKeyConstraint(['base_model_id'], ['base_models.id'], name=op.f('fk_models_base_model_id_base_models')),
    sa.ForeignKeyConstraint(['dataset_id'], ['datasets.id'], name=op.f('fk_models_dataset_id_datasets')),
    sa.ForeignKeyConstraint(['owner_id'], ['users.id'], name=op.f('fk_models_owner_id_users')),
    sa.ForeignKeyConstraint(['parent_model_id'], ['models.id'], name=op.f('fk_models_parent_model_id_models')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_models')),
    sa.UniqueConstraint('slug', name=op.f('uq_models_slug'))
    )
    with op.batch_alter_table('models', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_models_base_model_id'), ['base_model_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_models_dataset_id'), ['dataset_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_models_domain'), ['domain'], unique=False)
        batch_op.create_index(batch_op.f('ix_models_failure_class'), ['failure_class'], unique=False)
        batch_op.create_index(batch_op.f('ix_models_owner_id'), ['owner_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_models_parent_model_id'), ['parent_model_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_models_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_models_training_outcome'), ['training_outcome'], unique=False)
        batch_op.create_index(batch_op.f('ix_models_visibility'), ['visibility'], unique=False)

    op.create_table('capability_flags',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('model_id', sa.Integer(), nullable=False),
    sa.Column('domain', sa.String(length=40), nullable=False),
    sa.Column('task', sa.String(length=120), nullable=False),
    sa.Column('reference', sa.String(length=16), nullable=False),
    sa.Column('delta', sa.Float(), nullable=False),
    sa.Column('relative', sa.Float(), nullable=True),
    sa.Column('z', sa.Float(), nullable=False),
    sa.Column('p_value', sa.Float(), nullable=False),
    sa.Column('q_value', sa.Float(), nullable=False),
    sa.Column('peer_percentile', sa.Float(), nullable=True),
    sa.Column('sentence', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['model_id'], ['models.id'], name=op.f('fk_capability_flags_model_id_models')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_capability_flags')),
    sa.UniqueConstraint('model_id', 'domain', 'task', 'reference', name='one_flag')
    )
    with op.batch_alter_table('capability_flags', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_capability_flags_model_id'), ['model_id'], unique=False)

    op.create_table('evaluations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('model_id', sa.Integer(), nullable=True),
    sa.Column('base_model_id', sa.Integer(), nullable=True),
    sa.Column('domain', sa.String(length=40), nullable=False),
    sa.Column('task', sa.String(length=120), nullable=False),
    sa.Column('metric', sa.String(length=60), nullable=False),
    sa.Column('value', sa.Float(), nullable=True),
    sa.Column('stderr', sa.Float(), nullable=True),
    sa.Column('n_samples', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('skip_reason', sa.Text(), nullable=True),
    sa.Column('stamp', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('stamp_hash', sa.String(length=64), nullable=False),
    sa.Column('delta_base', sa.Float(), nullable=True),
    sa.Column('delta_parent', sa.Float(), nullable=True),
    sa.Column('executed_by', sa.Enum('platform', 'user', name='eval_executed_by', native_enum=False, create_constraint=True, length=16), nullable=False),
    sa.Column('is_current', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['base_model_id'], ['base_models.id'], name=op.f('fk_evaluations_base_model_id_base_models')),
    sa.ForeignKeyConstraint(['model_id'], ['models.id'], name=op.f('fk_evaluations_model_id_models')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_evaluations'))
    )
    with op.batch_alter_table('evaluations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_evaluations_base_model_id'), ['base_model_id'], unique=False)
        batch_op.create_index('ix_evaluations_board', ['domain', 'task', 'stamp_hash', 'is_current', 'status', 'executed_by', 'value', 'model_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_evaluations_model_id'), ['model_id'], unique=False)

    op.create_table('events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('model_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('payload', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_events_actor_id_users')),
    sa.ForeignKeyConstraint(['model_id'], ['models.id'], name=op.f('fk_events_model_id_models')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_events'))
    )
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_events_kind'), ['kind'], unique=False)
        batch_op.create_index(batch_op.f('ix_events_model_id'), ['model_id'], unique=False)

    op.create_table('feedback',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('model_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('thumbs_up', sa.Boolean(), nullable=False),
    sa.Column('comment', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['model_id'], ['models.id'], name=op.f('fk_feedback_model_id_models')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_feedback_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_feedback')),
    sa.UniqueConstraint('model_id', 'user_id', name='one_per_user')
    )
    with op.batch_alter_table('feedback', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_feedback_model_id'), ['model_id'], unique=False)

    op.create_table('jobs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('owner_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('notebook', sa.String(length=500), nullable=False),
    sa.Column('parameters', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('resources', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('executor', sa.String(length=20), nullable=False),
    sa.Column('external_id', sa.String(length=200), nullable=True),
    sa.Column('state', sa.Enum('queued', 'running', 'succeeded', 'failed', 'cancelled', 'lost', name='job_state', native_enum=False, create_constraint=True, length=16), nullable=False),
    sa.Column('model_id', sa.Integer(), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('log_path', sa.String(length=500), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('heartbeat_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['model_id'], ['models.id'], name=op.f('fk_jobs_model_id_models')),
    sa.ForeignKeyConstraint(['owner_id'], ['users.id'], name=op.f('fk_jobs_owner_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_jobs'))
    )
    with op.batch_alter_table('jobs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_jobs_model_id'), ['model_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_jobs_owner_id'), ['owner_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_jobs_state'), ['state'], unique=False)

    op.create_table('loss_points',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('model_id', sa.Integer(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('step', sa.Integer(), nullable=False),
    sa.Column('epoch', sa.Float(), nullable=True),
    sa.Column('loss', sa.Float(), nullable=True),
    sa.Column('lr', sa.Float(), nullable=True),
    sa.Column('grad_norm', sa.Float(), nullable=True),
    sa.Column('eval_loss', sa.Float(), nullable=True),
    sa.Column('nonfinite', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.Column('logged_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['model_id'], ['models.id'], name=op.f('fk_loss_points_model_id_models')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_loss_points')),
    sa.UniqueConstraint('model_id', 'seq', name='model_seq')
    )
    op.create_table('notebook_runs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('job_id', sa.Integer(), nullable=True),
    sa.Column('model_id', sa.Integer(), nullable=True),
    sa.Column('notebook', sa.String(length=500), nullable=False),
    sa.Column('parameters', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('archive_hash', sa.String(length=64), nullable=False),
    sa.Column('succeeded', sa.Boolean(), nullable=False),
    sa.Column('template', sa.String(length=200), nullable=True),
    sa.Column('template_version', sa.String(length=40), nullable=True),
    sa.Column('rerun_of', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['job_id'], ['jobs.id'], name=op.f('fk_notebook_runs_job_id_jobs')),
    sa.ForeignKeyConstraint(['model_id'], ['models.id'], name=op.f('fk_notebook_runs_model_id_models')),
    sa.ForeignKeyConstraint(['rerun_of'], ['notebook_runs.id'], name=op.f('fk_notebook_runs_rerun_of_notebook_runs')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notebook_runs'))
    )
    with op.batch_alter_table('notebook_runs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_notebook_runs_job_id'), ['job_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_notebook_runs_model_id'), ['model_id'], unique=False)


    _create_append_only_guard()

def downgrade() -> None:
    _drop_append_only_guard()
    with op.batch_alter_table('notebook_runs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_notebook_runs_model_id'))
        batch_op.drop_index(batch_op.f('ix_notebook_runs_job_id'))

    op.drop_table('notebook_runs')
    op.drop_table('loss_points')
    with op.batch_alter_table('jobs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_jobs_state'))
        batch_op.drop_index(batch_op.f('ix_jobs_owner_id'))
        batch_op.drop_index(batch_op.f('ix_jobs_model_id'))

    op.drop_table('jobs')
    with op.batch_alter_table('feedback', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_feedback_model_id'))

    op.drop_table('feedback')
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_events_model_id'))
        batch_op.drop_index(batch_op.f('ix_events_kind'))

    op.drop_table('events')
    with op.batch_alter_table('evaluations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_evaluations_model_id'))
        batch_op.drop_index('ix_evaluations_board')
        batch_op.drop_index(batch_op.f('ix_evaluations_base_model_id'))

    op.drop_table('evaluations')
    with op.batch_alter_table('capability_flags', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_capability_flags_model_id'))

    op.drop_table('capability_flags')
    with op.batch_alter_table('models', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_models_visibility'))
        batch_op.drop_index(batch_op.f('ix_models_training_outcome'))
        batch_op.drop_index(batch_op.f('ix_models_status'))
        batch_op.drop_index(batch_op.f('ix_models_parent_model_id'))
        batch_op.drop_index(batch_op.f('ix_models_owner_id'))
        batch_op.drop_index(batch_op.f('ix_models_failure_class'))
        batch_op.drop_index(batch_op.f('ix_models_domain'))
        batch_op.drop_index(batch_op.f('ix_models_dataset_id'))
        batch_op.drop_index(batch_op.f('ix_models_base_model_id'))

    op.drop_table('models')
    op.drop_table('dataset_items')
    with op.batch_alter_table('datasets', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_datasets_fingerprint'))

    op.drop_table('datasets')
    op.drop_table('users')
    op.drop_table('base_models')
