import { CredentialsView } from '../../../components/account/CredentialsView.tsx';
import { Heading } from '../../../components/account/Heading.tsx';

export default function CredentialsPage() {
  return (
    <>
      <Heading messageKey="credentialsTitle" />
      <CredentialsView />
    </>
  );
}
