import { AuditLog } from '../../../components/account/AuditLog.tsx';
import { Heading } from '../../../components/account/Heading.tsx';

export default function AuditPage() {
  return (
    <>
      <Heading messageKey="auditTitle" />
      <AuditLog />
    </>
  );
}
